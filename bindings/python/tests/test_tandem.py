"""The Python binding: facade calls, errors as exceptions, events, the listener with the real
client's protocol reachable, and memory staying flat over many cycles."""

import asyncio
import json
import os
import socket
import tempfile
import threading
import time

import pytest

import tandem


def make_engine(**extra):
    return tandem.Engine(extra or None)


def test_models_changes_and_history():
    with make_engine() as e:
        e.create_domain("acme", "docs")
        assert e.domains() == [("acme", "docs")]
        e.create_collection("acme", "docs", "notes")
        mid = e.create_model("acme", "docs", "notes", {"text": "hi", "n": 1, "tags": ["a"]}, model_id="n1")
        assert mid == "n1"
        v = e.apply("acme", "docs", "n1", [
            {"op": "splice", "path": ["text"], "index": 2, "insert": " 😀"},
            {"op": "add", "path": ["n"], "delta": 41},
            {"op": "insert", "path": ["tags"], "index": 1, "value": {"k": True}},
        ])
        assert v == 2
        assert e.model_json("acme", "docs", "n1") == {"text": "hi 😀", "n": 42, "tags": ["a", {"k": True}]}
        assert e.model_json("acme", "docs", "n1", version=1) == {"text": "hi", "n": 1, "tags": ["a"]}
        generated = e.create_model("acme", "docs", "notes", {})
        assert len(generated) == 36
        e.delete_model("acme", "docs", generated)
        with pytest.raises(tandem.NotFound):
            e.model_json("acme", "docs", generated)


def test_errors_are_typed_and_leave_state_intact():
    with make_engine() as e:
        e.create_domain("a", "b")
        e.create_model("a", "b", "c", {"t": "x"}, model_id="m")
        with pytest.raises(tandem.AlreadyExists) as info:
            e.create_domain("a", "b")
        assert info.value.code == 3
        with pytest.raises(tandem.InvalidOperation):
            e.apply("a", "b", "m", {"op": "splice", "path": ["t"], "index": 9, "insert": "y"})
        with pytest.raises(tandem.InvalidArgument):
            e.apply("a", "b", "m", {"op": "fly"})
        with pytest.raises(tandem.InvalidArgument):
            e.create_model("a", "b", "c", [1, 2])  # type: ignore[arg-type]
        with pytest.raises(tandem.InvalidArgument):
            e.create_domain(3, "x")  # type: ignore[arg-type]
        with pytest.raises(tandem.NotFound):
            e.apply("a", "b", "nope", [])
        with pytest.raises(tandem.ConfigError):
            tandem.Engine({"data_dri": "/tmp/x"})
        assert e.model_json("a", "b", "m") == {"t": "x"}
    with pytest.raises(tandem.Unavailable):
        e.create_domain("x", "y")
    assert issubclass(tandem.NotFound, tandem.TandemError)


def test_users_and_keys():
    with make_engine() as e:
        e.create_domain("a", "b")
        e.create_user("a", "b", "bob", password="pw", display_name="Bob")
        e.set_password("a", "b", "bob", "pw2")
        assert e.users("a", "b") == ["bob"]
        with pytest.raises(tandem.NotFound):
            e.set_password("a", "b", "nobody", "x")
        with pytest.raises(tandem.InvalidArgument):
            e.add_jwt_key("a", "b", "k1", "not a pem")
        e.set_anonymous("a", "b", True)


def test_events_by_callback_and_async_iterator():
    with make_engine() as e:
        e.create_domain("a", "b")
        e.create_model("a", "b", "c", {"n": 0}, model_id="m")
        got = []
        done = threading.Event()

        def on_event(ev):
            got.append(ev)
            if len(got) == 2:
                done.set()

        sub = e.subscribe(on_event, namespace="a", domain="b")
        e.apply("a", "b", "m", {"op": "add", "path": ["n"], "delta": 1})
        e.apply("a", "b", "m", {"op": "add", "path": ["n"], "delta": 1})
        assert done.wait(5)
        sub.close()
        assert [g["type"] for g in got] == ["operation_applied", "operation_applied"]
        assert [g["version"] for g in got] == [2, 3]
        assert got[0]["model"] == "m" and got[0]["namespace"] == "a"

        async def consume():
            sub2 = e.subscribe(model_id="m")
            e.apply("a", "b", "m", {"op": "add", "path": ["n"], "delta": 5})
            async for ev in sub2:
                sub2.close()
                return ev

        ev = asyncio.run(asyncio.wait_for(consume(), 10))
        assert ev["version"] == 4 and ev["operation"]["type"] == "NumberAdd"


def test_listener_serves_health_and_realtime_endpoint():
    with make_engine() as e:
        e.create_domain("demo", "default", anonymous_auth=True)
        addr = e.listen("127.0.0.1:0")
        host, port = addr.split(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = s.recv(4096).decode()
        assert "200" in reply.split("\r\n")[0] and '{"status":"ok"}' in reply
        with pytest.raises(tandem.AlreadyExists):
            e.listen("127.0.0.1:0")
        e.stop_listening()


def test_durable_engine_reopens_with_data(tmp_path):
    config = {"data_dir": str(tmp_path / "data")}
    with tandem.Engine(config) as e:
        e.create_domain("a", "b")
        e.create_model("a", "b", "c", {"t": "x"}, model_id="m")
        e.apply("a", "b", "m", {"op": "splice", "path": ["t"], "index": 1, "insert": "y"})
    with tandem.Engine(config) as e:
        assert e.model_json("a", "b", "m") == {"t": "xy"}


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_memory_stays_flat_over_many_cycles():
    e = make_engine()
    e.create_domain("a", "b")

    def cycle(i):
        mid = f"m{i}"
        e.create_model("a", "b", "c", {"t": "x", "list": [1, 2, 3]}, model_id=mid)
        e.apply("a", "b", mid, {"op": "splice", "path": ["t"], "index": 1, "insert": "y"})
        assert e.model_json("a", "b", mid)["t"] == "xy"
        e.delete_model("a", "b", mid)

    for i in range(1000):  # warm-up: allocator pools, runtime threads
        cycle(i)
    before = rss_kib()
    for i in range(1000, 11000):
        cycle(i)
    after = rss_kib()
    print(f"RSS before {before} KiB, after {after} KiB over 10,000 open/create/close cycles")
    e.shutdown()
    assert after < before * 1.10, f"RSS grew from {before} to {after} KiB"
