"""The Python binding as a user sees it: handles, native values (lone surrogates exact), typed
errors, sync and asyncio calls, subscriptions (iterator, async iterator, callback, close from
another thread), the listener, durability, and memory staying flat."""

import asyncio
import socket
import threading

import pytest

import tandem


@pytest.fixture
def engine():
    with tandem.Engine.open() as e:
        yield e


def test_models_changes_and_history(engine):
    d = engine.create_domain("acme", "docs")
    assert engine.domains() == [("acme", "docs")]
    d.create_collection("notes")
    m = d.create_model("notes", {"text": "hi", "n": 1, "tags": ["a"], "f": 1.5, "z": None}, id="n1")
    assert m.id == "n1" and m.domain.namespace == "acme"
    v = m.apply([
        {"op": "splice", "path": ["text"], "index": 2, "insert": " 😀"},
        {"op": "add", "path": ["n"], "delta": 41},
        {"op": "insert", "path": ["tags"], "index": 1, "value": {"k": True}},
    ])
    assert v == 2
    assert m.json() == {"text": "hi 😀", "n": 42, "tags": ["a", {"k": True}], "f": 1.5, "z": None}
    assert m.json_at(1)["n"] == 1
    assert m.info()["version"] == 2 and m.info()["collection"] == "notes"
    h = m.history(2, 2)
    assert h[0]["version"] == 2 and h[0]["user"] == {"kind": "convergence", "name": h[0]["user"]["name"]}
    assert [i["id"] for i in d.models("notes")] == ["n1"]
    generated = d.create_model("notes", {})
    assert len(generated.id) == 36
    generated.delete()
    with pytest.raises(tandem.NotFoundError):
        generated.json()
    with pytest.raises(tandem.NotFoundError):
        d.model(generated.id)


def test_lone_surrogates_survive_exactly(engine):
    d = engine.create_domain("s", "d")
    lone = "a\ud800b"
    m = d.create_model("c", {lone: lone, "t": "x"}, id="m")
    assert m.json() == {lone: lone, "t": "x"}
    m.apply({"op": "splice", "path": ["t"], "index": 1, "insert": "\udc01"})
    assert m.json()["t"] == "x\udc01"
    with m.subscribe() as sub:
        m.apply({"op": "set", "path": ["t"], "value": "\ud83d"})
        ev = sub.next(5)
    assert ev is not None and ev["operation"]["value"] == "\ud83d"
    assert m.json()["t"] == "\ud83d"


def test_errors_are_typed_with_code_and_name(engine):
    d = engine.create_domain("a", "b")
    m = d.create_model("c", {"t": "x"}, id="m")
    with pytest.raises(tandem.AlreadyExistsError) as info:
        engine.create_domain("a", "b")
    assert info.value.code == 3 and info.value.name == "already_exists" and info.value.message
    with pytest.raises(tandem.InvalidOperationError):
        m.apply({"op": "splice", "path": ["t"], "index": 9, "insert": "y"})
    with pytest.raises(tandem.InvalidArgumentError):
        m.apply({"op": "fly"})
    with pytest.raises(tandem.InvalidArgumentError):
        d.create_model("c", {"bad": object()})
    with pytest.raises(tandem.InvalidArgumentError):
        d.create_model("c", {"nan": float("nan")})
    with pytest.raises(tandem.NotFoundError):
        engine.domain("a", "nope")
    with pytest.raises(tandem.ConfigError):
        tandem.Engine.open({"data_dri": "/tmp/x"})
    with pytest.raises(tandem.ConfigError):
        engine.listen("127.0.0.1:0", {"max_frame_byte": 1})
    assert m.json() == {"t": "x"}
    engine.shutdown()
    assert engine.is_shut_down
    with pytest.raises(tandem.UnavailableError):
        engine.create_domain("x", "y")
    with pytest.raises(tandem.UnavailableError):
        m.json()
    assert issubclass(tandem.UnavailableError, tandem.TandemError)


def test_users_keys_and_settings(engine):
    d = engine.create_domain("a", "b", {"display_name": "B"})
    assert d.settings() == {
        "display_name": "B",
        "anonymous_auth": False,
        "collection_auto_create": True,
        "state": "online",
        "reconnect_token_minutes": 1440,
        "default_collection_world": ["create", "read", "write", "remove", "manage"],
    }
    d.set_anonymous_auth(True)
    assert d.settings()["anonymous_auth"] is True
    u = d.create_user({"username": "bob", "password": "pw", "display_name": "Bob"})
    assert u["username"] == "bob" and u["display_name"] == "Bob" and u["has_password"]
    d.set_password("bob", "pw2")
    assert [x["username"] for x in d.users()] == ["bob"]
    with pytest.raises(tandem.NotFoundError):
        d.set_password("nobody", "x")
    with pytest.raises(tandem.InvalidArgumentError):
        d.create_user({"name": "no username"})
    with pytest.raises(tandem.InvalidArgumentError):
        d.add_jwt_key({"id": "k1", "public_key_pem": "not a pem"})
    assert d.jwt_keys() == []
    d.delete_user("bob")
    assert d.users() == []


def test_apply_as_records_the_user(engine):
    d = engine.create_domain("a", "b")
    d.create_user({"username": "bob"})
    m = d.create_model("c", {"n": 0}, id="m")
    m.apply({"op": "add", "path": ["n"], "delta": 1}, user={"kind": "normal", "name": "bob"})
    assert m.history(2, 2)[0]["user"] == {"kind": "normal", "name": "bob"}


def test_undo_and_redo_of_one_users_change(engine):
    d = engine.create_domain("a", "undo")
    m = d.create_model("c", {"t": "ab"}, id="m")
    ann = {"kind": "normal", "name": "ann"}
    m.apply({"op": "splice", "path": ["t"], "index": 2, "insert": "cd"}, user=ann)
    m.apply({"op": "splice", "path": ["t"], "index": 0, "insert": ">"})
    assert m.undo({"last_of": ann}) == {"outcome": "undone", "version": 4, "undid": [2]}
    assert m.json() == {"t": ">ab"}
    assert m.history(4, 4)[0]["undoes"] == [2]
    assert "undoes" not in m.history(3, 3)[0]

    async def redo():
        return await m.redo_async({"version": 4}, by=ann)

    assert asyncio.run(redo())["outcome"] == "undone"
    assert m.json() == {"t": ">abcd"}
    assert m.history(5, 5)[0]["user"] == ann
    assert m.undo({"since": {"user": {"kind": "normal", "name": "nobody"}, "version": 1}}) == {
        "outcome": "nothing_to_undo"
    }
    with pytest.raises(tandem.InvalidArgumentError):
        m.undo({"sideways": 1})

    async def too_far():
        return await m.undo_async({"version": 99})

    with pytest.raises(tandem.InvalidArgumentError):
        asyncio.run(too_far())


def test_async_calls_do_not_block_the_loop(engine):
    async def main():
        d = await engine.create_domain_async("a", "b")
        m = await d.create_model_async("c", {"n": 0}, id="m")
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        versions = await asyncio.gather(*(m.apply_async({"op": "add", "path": ["n"], "delta": 1}) for _ in range(20)))
        t.cancel()
        assert sorted(versions) == list(range(2, 22))
        assert (await m.json_async())["n"] == 20
        assert ticks > 0
        await m.delete_async()
        await engine.delete_domain_async("a", "b")
        return engine.domains()

    assert asyncio.run(main()) == []


def test_async_error_is_the_typed_exception(engine):
    async def main():
        d = await engine.create_domain_async("a", "b")
        await d.create_model_async("c", {}, id="m")
        with pytest.raises(tandem.AlreadyExistsError):
            await d.create_model_async("c", {}, id="m")

    asyncio.run(main())


def test_events_by_iterator_callback_and_async_iterator(engine):
    d = engine.create_domain("a", "b")
    m = d.create_model("c", {"n": 0}, id="m")
    got = []
    done = threading.Event()
    threads = set()

    def on_event(ev):
        got.append(ev)
        threads.add(threading.current_thread().ident)
        if len(got) == 2:
            done.set()

    cb_sub = d.subscribe()
    cb_sub.on_event(on_event)
    with m.subscribe() as sub:
        m.apply({"op": "add", "path": ["n"], "delta": 1})
        m.apply({"op": "add", "path": ["n"], "delta": 1})
        first = next(iter(sub))
        assert first["type"] == "operation_applied" and first["version"] == 2
        assert sub.next(5)["version"] == 3
        assert sub.try_next() is None
        assert sub.next(0.01) is None
    assert sub.closed and sub.next() is None
    assert done.wait(5)
    cb_sub.close()
    assert [g["version"] for g in got] == [2, 3] and got[0]["namespace"] == "a"
    assert threading.main_thread().ident not in threads

    async def consume():
        sub2 = m.subscribe()
        await m.apply_async({"op": "add", "path": ["n"], "delta": 5})
        async for ev in sub2:
            sub2.close()
            return ev

    ev = asyncio.run(asyncio.wait_for(consume(), 10))
    assert ev["version"] == 4 and ev["operation"]["type"] == "NumberAdd"


def test_close_from_another_thread_wakes_a_blocked_reader(engine):
    d = engine.create_domain("a", "b")
    sub = d.subscribe()
    out = []
    reader = threading.Thread(target=lambda: out.extend(list(sub)))
    reader.start()
    threading.Timer(0.2, sub.close).start()
    reader.join(5)
    assert not reader.is_alive() and out == []


def test_cancelled_async_read_loses_no_event(engine):
    d = engine.create_domain("a", "b")
    m = d.create_model("c", {"n": 0}, id="m")

    async def main():
        sub = m.subscribe()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(sub.next_async(), 0.05)
        await m.apply_async({"op": "add", "path": ["n"], "delta": 1})
        ev = await asyncio.wait_for(sub.next_async(), 5)
        sub.close()
        assert await sub.next_async() is None
        return ev

    assert asyncio.run(main())["version"] == 2


def test_shutdown_ends_subscriptions(engine):
    sub = engine.subscribe()
    threading.Timer(0.2, engine.shutdown).start()
    assert sub.next() is None


def test_listener_serves_health(engine):
    engine.create_domain("demo", "default", {"anonymous_auth": True})
    addr = engine.listen("127.0.0.1:0")
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = s.recv(4096).decode()
    assert "200" in reply.split("\r\n")[0] and '{"status":"ok"}' in reply
    with pytest.raises(tandem.AlreadyExistsError):
        engine.listen("127.0.0.1:0")
    assert engine.stop_listening() is True
    assert engine.stop_listening() is False


def test_durable_engine_reopens_with_data_while_handles_live(tmp_path):
    config = {"data_dir": tmp_path / "data"}
    with tandem.Engine.open(config) as e:
        m = e.create_domain("a", "b").create_model("c", {"t": "x"}, id="m")
        m.apply({"op": "splice", "path": ["t"], "index": 1, "insert": "y"})
    with tandem.Engine.open(config) as e:
        assert e.domain("a", "b").model("m").json() == {"t": "xy"}
    with pytest.raises(tandem.UnavailableError):
        m.json()


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_memory_stays_flat_over_many_cycles(engine):
    d = engine.create_domain("a", "b")

    def cycle(i):
        m = d.create_model("c", {"t": "x", "list": [1, 2, 3]}, id=f"m{i}")
        m.apply({"op": "splice", "path": ["t"], "index": 1, "insert": "y"})
        assert m.json()["t"] == "xy"
        m.delete()

    for i in range(1000):
        cycle(i)
    before = rss_kib()
    for i in range(1000, 6000):
        cycle(i)
    after = rss_kib()
    assert after < before * 1.10, f"RSS grew from {before} to {after} KiB"


def test_a_failing_callback_is_reported_and_delivery_goes_on(engine, monkeypatch):
    d = engine.create_domain("a", "b")
    m = d.create_model("c", {"n": 0}, id="m")
    reported = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: reported.append(u.exc_value))
    seen = []
    done = threading.Event()

    def callback(ev):
        seen.append(ev["version"])
        if len(seen) == 2:
            done.set()
        if len(seen) == 1:
            raise RuntimeError("boom")

    with d.subscribe() as sub:
        sub.on_event(callback)
        m.apply({"op": "add", "path": ["n"], "delta": 1})
        m.apply({"op": "add", "path": ["n"], "delta": 1})
        assert done.wait(5)
    assert seen == [2, 3]
    assert len(reported) == 1 and isinstance(reported[0], RuntimeError)


def test_users_groups_and_permissions(engine):
    d = engine.create_domain("acme", "docs")
    d.create_user({"username": "bob"})
    bob = {"kind": "normal", "name": "bob"}
    ghost = {"kind": "normal", "name": "ghost"}
    m = d.create_model("notes", {"t": "x"}, id="n1")
    assert d.update_user("bob", {"display_name": "Bob"})["display_name"] == "Bob"
    d.set_user_disabled("bob", True)
    assert d.user("bob")["disabled"] is True
    d.set_user_disabled("bob", False)
    with pytest.raises(tandem.NotFoundError):
        d.user("ghost")
    with pytest.raises(tandem.InvalidArgumentError):
        d.update_user("bob", {"nickname": "b"})

    assert d.create_group("staff") == {"id": "staff", "description": "", "members": []}
    with pytest.raises(tandem.AlreadyExistsError):
        d.create_group("staff", "again")
    d.add_group_member("staff", bob)
    with pytest.raises(tandem.NotFoundError):
        d.add_group_member("staff", ghost)
    d.set_group_description("staff", "Staff")
    assert d.groups() == [{"id": "staff", "description": "Staff", "members": [bob]}]
    assert d.user_groups(bob) == ["staff"]

    none = {"read": False, "write": False, "remove": False, "manage": False}
    d.set_collection_world("notes", {"read": True})
    d.set_collection_user("notes", bob, {"read": True, "write": True})
    with pytest.raises(tandem.InvalidArgumentError):
        d.set_collection_world("notes", {"read": True, "fly": True})
    with pytest.raises(tandem.NotFoundError):
        d.set_collection_world("none", {})
    perms = d.collection_permissions("notes")
    assert perms["world"] == {**none, "create": False, "read": True}
    assert perms["users"] == [(bob, {**none, "create": False, "read": True, "write": True})]
    assert m.rights_of(bob) == {**none, "read": True, "write": True}
    m.set_permissions({"override_world": True, "world": {}, "set_users": [(bob, {"read": True})]})
    assert m.permissions() == {"override_world": True, "world": none, "users": [(bob, {**none, "read": True})]}
    d.set_collection_user("notes", bob, None)
    assert d.collection_permissions("notes")["users"] == []

    lobby = {"kind": "chat", "id": "lobby"}
    with pytest.raises(tandem.NotFoundError):
        d.permissions(lobby)
    d.create_chat({"id": "lobby", "kind": "channel"})
    d.change_permissions(lobby, {"add": {"groups": [("staff", ["join_chat"])]}})
    assert d.permissions(lobby) == {"world": [], "users": [], "groups": [("staff", ["join_chat"])]}
    assert d.resolve_permissions(lobby, bob) == ["join_chat"]
    with pytest.raises(tandem.InvalidArgumentError):
        d.change_permissions(lobby, {"add": {"world": ["fly"]}})
    d.delete_group("staff")
    with pytest.raises(tandem.NotFoundError):
        d.group("staff")

    d.set_state("maintenance")
    assert d.settings()["state"] == "maintenance"
    with pytest.raises(tandem.InvalidArgumentError):
        d.set_state("asleep")
    token = d.admin_token("ops", 60)
    assert token.count(".") == 2

    async def main() -> str:
        await d.set_state_async("online")
        await d.create_group_async("async", "made by asyncio")
        await d.add_group_member_async("async", bob)
        await m.set_permissions_async({"remove_users": [bob]})
        return await d.admin_token_async("ops", 60)

    assert asyncio.run(main()).count(".") == 2
    assert d.settings()["state"] == "online" and d.user_groups(bob) == ["async"]
    assert m.permissions()["users"] == []


def test_presence_of_users_without_sessions(engine):
    d = engine.create_domain("acme", "presence")
    d.create_user({"username": "bob"})
    bob = {"kind": "normal", "name": "bob"}
    anon = {"kind": "anonymous", "name": "x"}
    unavailable = [
        {"user": bob, "available": False, "state": {}},
        {"user": anon, "available": False, "state": {}},
    ]
    assert d.presence([bob, anon]) == unavailable

    async def read():
        return await d.presence_async([bob, anon])

    assert asyncio.run(read()) == unavailable
    assert d.presence([]) == []
    with pytest.raises(tandem.InvalidArgumentError):
        d.presence([{"kind": "robot", "name": "x"}])


def test_activities_sync_and_async_with_typed_errors(engine):
    d = engine.create_domain("acme", "activities")
    d.create_user({"username": "bob"})
    bob = {"kind": "normal", "name": "bob"}
    assert d.activity_exists("doc", "a1") is False
    d.create_activity("doc", "a1", {"world": ["join", "view_state"], "users": [(bob, ["manage"])]})
    with pytest.raises(tandem.AlreadyExistsError):
        d.create_activity("doc", "a1")
    with pytest.raises(tandem.InvalidArgumentError):
        d.create_activity("doc", "a2", {"world": ["fly"]})
    with pytest.raises(tandem.InvalidArgumentError):
        d.create_activity("", "a2")
    assert d.activity_exists("doc", "a1") is True
    assert d.activity_participants("doc", "a1") == []
    a1 = {"kind": "activity", "type": "doc", "id": "a1"}
    assert d.permissions(a1) == {"world": ["join", "view_state"], "users": [(bob, ["manage"])], "groups": []}
    assert d.resolve_permissions(a1, bob) == ["join", "manage", "view_state"]
    missing = {"kind": "activity", "type": "doc", "id": "nope"}
    with pytest.raises(tandem.NotFoundError):
        d.permissions(missing)
    with pytest.raises(tandem.NotFoundError):
        d.change_permissions(missing, {"add": {"world": ["join"]}})
    with pytest.raises(tandem.NotFoundError):
        d.activity_participants("doc", "nope")
    d.delete_activity("doc", "a1")
    assert not d.activity_exists("doc", "a1")
    with pytest.raises(tandem.NotFoundError):
        d.delete_activity("doc", "a1")

    async def main():
        await d.create_activity_async("doc", "b1", {"world": ["join"]})
        await d.create_activity_async("doc", "b2")
        with pytest.raises(tandem.AlreadyExistsError):
            await d.create_activity_async("doc", "b1")
        found = await d.activity_participants_async("doc", "b1")
        await d.delete_activity_async("doc", "b1")
        with pytest.raises(tandem.NotFoundError):
            await d.activity_participants_async("doc", "b1")
        with pytest.raises(tandem.NotFoundError):
            await d.delete_activity_async("doc", "b1")
        return found

    assert asyncio.run(main()) == []
    assert (d.activity_exists("doc", "b1"), d.activity_exists("doc", "b2")) == (False, True)
    assert d.permissions({"kind": "activity", "type": "doc", "id": "b2"}) == {"world": [], "users": [], "groups": []}


def test_chats_members_posts_history_and_events(engine):
    d = engine.create_domain("acme", "chat")
    d.create_user({"username": "ann"})
    ann = {"kind": "normal", "name": "ann"}
    with d.subscribe() as sub:
        assert d.create_chat({"id": "lobby", "kind": "channel", "name": "Lobby"}) == "lobby"
        with pytest.raises(tandem.AlreadyExistsError):
            d.create_chat({"id": "lobby", "kind": "channel"})
        with pytest.raises(tandem.InvalidArgumentError):
            d.create_chat({"kind": "room", "private": True})
        with pytest.raises(tandem.InvalidArgumentError):
            d.create_chat({"kind": "channel", "nmae": "typo"})
        with pytest.raises(tandem.NotFoundError):
            d.post_chat_message("lobby", "too early", user=ann)
        d.add_chat_member("lobby", ann)
        first = d.post_chat_message("lobby", "hi from ann", user=ann)
        async def post_as_host():
            return await d.post_chat_message_async("lobby", "hi from the host")

        second = asyncio.run(post_as_host())
        assert second["number"] == first["number"] + 1
        d.set_chat_topic("lobby", "News")
        info = d.chat("lobby")
        assert info["topic"] == "News" and info["kind"] == "channel"
        assert any(m["user"] == ann for m in info["members"])
        assert d.chat("nope") is None
        assert [c["id"] for c in d.chats()] == ["lobby"]
        page = d.chat_history("lobby", {"kinds": ["message"], "forward": True})
        assert page["total"] == 2
        assert [e["text"] for e in page["events"]] == ["hi from ann", "hi from the host"]
        assert page["events"][1]["user"]["kind"] == "convergence", "the host posts as the host user"
        with pytest.raises(tandem.InvalidArgumentError):
            d.chat_history("lobby", {"kinds": ["gossip"]})
        seen = []
        while len(seen) < 4:
            ev = sub.next(5)
            assert ev is not None, f"events so far: {seen}"
            if ev["type"] == "chat_changed":
                seen.append(ev)
        texts = [e["event"]["text"] for e in seen if e["change"] == "event" and e["event"]["kind"] == "message"]
        assert texts == ["hi from ann", "hi from the host"]
        assert all(e["chat_id"] == "lobby" for e in seen)
    d.remove_chat("lobby")
    assert d.chat("lobby") is None


def test_direct_chat_is_got_or_created_by_member_set(engine):
    d = engine.create_domain("acme", "direct")
    for name in ("ann", "ben"):
        d.create_user({"username": name})
    ann, ben = {"kind": "normal", "name": "ann"}, {"kind": "normal", "name": "ben"}
    made = d.direct_chat([ann, ben])
    assert (made["kind"], made["private"]) == ("direct", True)
    assert [m["user"] for m in made["members"]] == [ann, ben]

    async def again():
        return await d.direct_chat_async([ben, ann])

    assert asyncio.run(again())["id"] == made["id"], "the same set answers the same chat"
    assert d.direct_chat([ann])["id"] != made["id"]
    d.post_chat_message(made["id"], "hello", user=ben)
    assert d.chat_history(made["id"], {"kinds": ["message"]})["events"][0]["user"] == ben
    with pytest.raises(tandem.InvalidArgumentError):
        d.direct_chat([])
    with pytest.raises(tandem.NotFoundError):
        d.direct_chat([ann, {"kind": "normal", "name": "ghost"}])
    with pytest.raises(tandem.InvalidArgumentError):
        d.direct_chat("ann")
    assert len(d.chats()) == 2, "a refusal makes nothing"
