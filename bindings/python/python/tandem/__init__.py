"""Embed the Tandem real-time collaboration engine in Python.

The classes mirror the engine's handles: ``Engine`` → ``Domain`` → ``Model`` → ``Subscription``.
Every call that waits for the engine exists twice: ``name(...)`` blocks the calling thread (the
GIL released) and ``name_async(...)`` returns an awaitable for asyncio. Data are plain Python
values. Errors are ``TandemError`` subclasses, one per engine error code (``NotFoundError``,
...), made from the engine's table when the module loads; ``ERRORS`` maps code -> class.
"""

from . import _tandem
from ._tandem import ERRORS, Domain, Engine, Model, Subscription, TandemError

globals().update({cls.__name__: cls for cls in ERRORS.values()})

__all__ = ["Engine", "Domain", "Model", "Subscription", "TandemError", "ERRORS"] + [
    cls.__name__ for cls in ERRORS.values()
]

del _tandem
