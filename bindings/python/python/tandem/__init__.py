"""Embed the Tandem real-time collaboration engine in Python.

Everything runs in-process: open an :class:`Engine`, create domains, users and models, apply
changes, listen for the Convergence JavaScript client on a port, and receive events through a
callback or an asyncio-friendly iterator. Errors are :class:`TandemError` subclasses carrying the
engine's stable numeric ``code``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, AsyncIterator, Callable, Dict, Iterable, List, Optional, Tuple, Union

from . import _tandem

__all__ = [
    "Engine", "Subscription", "TandemError", "InvalidArgument", "NotFound", "AlreadyExists",
    "InvalidOperation", "Conflict", "StorageError", "FormatVersionError", "Unavailable",
    "ConfigError", "InternalError", "Unauthenticated",
]


class TandemError(Exception):
    """An engine error. ``code`` is the stable numeric code, ``name`` its name."""

    code: int = 0
    name: str = "error"

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidArgument(TandemError):
    code, name = 1, "invalid_argument"


class NotFound(TandemError):
    code, name = 2, "not_found"


class AlreadyExists(TandemError):
    code, name = 3, "already_exists"


class InvalidOperation(TandemError):
    code, name = 4, "invalid_operation"


class Conflict(TandemError):
    code, name = 5, "conflict"


class StorageError(TandemError):
    code, name = 6, "storage"


class FormatVersionError(TandemError):
    code, name = 7, "format_version"


class Unavailable(TandemError):
    code, name = 8, "unavailable"


class ConfigError(TandemError):
    code, name = 9, "config"


class InternalError(TandemError):
    code, name = 10, "internal"


class Unauthenticated(TandemError):
    code, name = 11, "unauthenticated"


_BY_CODE = {c.code: c for c in (InvalidArgument, NotFound, AlreadyExists, InvalidOperation, Conflict,
                                StorageError, FormatVersionError, Unavailable, ConfigError,
                                InternalError, Unauthenticated)}


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except _tandem.TandemError as e:  # type: ignore[attr-defined]
        code = getattr(e, "code", 10)
        cls = _BY_CODE.get(code, TandemError)
        raise cls(getattr(e, "message", str(e)), code) from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be a str, not {type(value).__name__}")
    return value


class Subscription:
    """Engine events as dicts: ``next(timeout)``, iteration, ``async for``, or a callback."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._thread: Optional[threading.Thread] = None
        self._closed = False

    def next(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The next event, or ``None`` after ``timeout`` seconds or once closed."""
        text = self._inner.next(timeout)
        return None if text is None else json.loads(text)

    def __iter__(self):
        while not self._closed:
            event = self.next(0.2)
            if event is not None:
                yield event

    def __aiter__(self) -> AsyncIterator[Dict[str, Any]]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[Dict[str, Any]]:
        loop = asyncio.get_running_loop()
        while not self._closed:
            event = await loop.run_in_executor(None, self.next, 0.2)
            if event is not None:
                yield event

    def _run_callback(self, callback: Callable[[Dict[str, Any]], None]) -> None:
        def pump() -> None:
            while not self._closed:
                event = self.next(0.1)
                if event is not None:
                    callback(event)
        self._thread = threading.Thread(target=pump, name="tandem-events", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stops delivering events (and joins the callback thread, if any)."""
        self._closed = True
        self._inner.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Engine:
    """A Tandem engine: in memory by default, durable with ``{"data_dir": path}``."""

    def __init__(self, config: Optional[Dict[str, Any]] = None) -> None:
        if config is not None and not isinstance(config, dict):
            raise InvalidArgument("config must be a dict")
        self._inner = _call(_tandem.Engine, None if config is None else json.dumps(config))

    def listen(self, address: str = "127.0.0.1:0", net_config: Optional[Dict[str, Any]] = None) -> str:
        """Starts the WebSocket/HTTP listener; returns the bound ``host:port``."""
        return _call(self._inner.listen, _text(address, "address"),
                     None if net_config is None else json.dumps(net_config))

    def stop_listening(self) -> None:
        _call(self._inner.stop_listening)

    def shutdown(self) -> None:
        """Closes sessions, flushes every write; later calls raise :class:`Unavailable`."""
        _call(self._inner.shutdown)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    def create_domain(self, namespace: str, domain: str, *, anonymous_auth: bool = False,
                      collection_auto_create: bool = True) -> None:
        _call(self._inner.create_domain, _text(namespace, "namespace"), _text(domain, "domain"),
              bool(anonymous_auth), bool(collection_auto_create))

    def domains(self) -> List[Tuple[str, str]]:
        return _call(self._inner.domains)

    def set_anonymous(self, namespace: str, domain: str, allow: bool) -> None:
        _call(self._inner.set_anonymous, _text(namespace, "namespace"), _text(domain, "domain"), bool(allow))

    def create_collection(self, namespace: str, domain: str, collection: str) -> None:
        _call(self._inner.create_collection, _text(namespace, "namespace"), _text(domain, "domain"),
              _text(collection, "collection"))

    def collections(self, namespace: str, domain: str) -> List[str]:
        return _call(self._inner.collections, _text(namespace, "namespace"), _text(domain, "domain"))

    def create_user(self, namespace: str, domain: str, username: str, password: Optional[str] = None,
                    display_name: str = "") -> None:
        _call(self._inner.create_user, _text(namespace, "namespace"), _text(domain, "domain"),
              _text(username, "username"), password, display_name)

    def users(self, namespace: str, domain: str) -> List[str]:
        return _call(self._inner.users, _text(namespace, "namespace"), _text(domain, "domain"))

    def set_password(self, namespace: str, domain: str, username: str, password: str) -> None:
        _call(self._inner.set_password, _text(namespace, "namespace"), _text(domain, "domain"),
              _text(username, "username"), _text(password, "password"))

    def add_jwt_key(self, namespace: str, domain: str, key_id: str, public_key_pem: str) -> None:
        _call(self._inner.add_jwt_key, _text(namespace, "namespace"), _text(domain, "domain"),
              _text(key_id, "key_id"), _text(public_key_pem, "public_key_pem"))

    def create_model(self, namespace: str, domain: str, collection: str, data: Dict[str, Any],
                     model_id: Optional[str] = None) -> str:
        """Creates a model from a dict; returns its id (a UUID when none is given)."""
        if not isinstance(data, dict):
            raise InvalidArgument("model data must be a dict")
        return _call(self._inner.create_model, _text(namespace, "namespace"), _text(domain, "domain"),
                     _text(collection, "collection"), json.dumps(data), model_id)

    def model_json(self, namespace: str, domain: str, model_id: str,
                   version: Optional[int] = None) -> Dict[str, Any]:
        """The model's data (at ``version`` when given)."""
        return json.loads(_call(self._inner.model_json, _text(namespace, "namespace"),
                                _text(domain, "domain"), _text(model_id, "model_id"), version))

    def apply(self, namespace: str, domain: str, model_id: str,
              changes: Union[Dict[str, Any], Iterable[Dict[str, Any]]]) -> int:
        """Applies changes as one operation; returns the version it produced."""
        if not isinstance(changes, dict):
            changes = list(changes)
        return _call(self._inner.apply, _text(namespace, "namespace"), _text(domain, "domain"),
                     _text(model_id, "model_id"), json.dumps(changes))

    def delete_model(self, namespace: str, domain: str, model_id: str) -> None:
        _call(self._inner.delete_model, _text(namespace, "namespace"), _text(domain, "domain"),
              _text(model_id, "model_id"))

    def subscribe(self, callback: Optional[Callable[[Dict[str, Any]], None]] = None, *,
                  namespace: Optional[str] = None, domain: Optional[str] = None,
                  model_id: Optional[str] = None) -> Subscription:
        """Events (all, or one domain's / model's). With ``callback``, a thread calls it."""
        sub = Subscription(_call(self._inner.subscribe, namespace, domain, model_id))
        if callback is not None:
            sub._run_callback(callback)
        return sub
