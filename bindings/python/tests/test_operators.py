"""Operator calls through the Python handles: administrators and API keys, the connected
sessions, webhooks with their deliveries, the list of activities, and the model_created /
model_deleted events; blocking calls and their awaitable twins, each failure as its
TandemError subclass."""

import asyncio
import time

import pytest

import tandem


@pytest.fixture
def engine():
    with tandem.Engine.open() as e:
        yield e


def next_of(sub, kind):
    """The next event of type `kind` (at most 5 s)."""
    while True:
        event = sub.next(5)
        assert event is not None, f"no {kind} event"
        if event["type"] == kind:
            return event


def test_administrators_are_added_listed_logged_in_and_removed(engine):
    assert engine.admins() == []
    root = engine.add_admin("root", "s3cret")
    assert root["username"] == "root" and isinstance(root["created_ms"], int)
    with pytest.raises(tandem.AlreadyExistsError):
        engine.add_admin("root", "other")
    assert [a["username"] for a in engine.admins()] == ["root"]
    with pytest.raises(tandem.UnauthenticatedError):
        engine.admin_login("root", "wrong")
    with pytest.raises(tandem.UnauthenticatedError):
        engine.admin_login("nobody", "s3cret")
    login = engine.admin_login("root", "s3cret")
    assert isinstance(login["token"], str) and login["expires_ms"] > time.time() * 1000
    assert engine.verify_admin_token(login["token"])["username"] == "root"
    with pytest.raises(tandem.UnauthenticatedError):
        engine.verify_admin_token(login["token"] + "x")
    engine.set_admin_password("root", "n3w")
    with pytest.raises(tandem.UnauthenticatedError):
        engine.verify_admin_token(login["token"])
    with pytest.raises(tandem.NotFoundError):
        engine.set_admin_password("nobody", "x")
    engine.remove_admin("root")
    with pytest.raises(tandem.NotFoundError):
        engine.remove_admin("root")
    assert engine.admins() == []


def test_administrators_through_asyncio(engine):
    async def main():
        added = await engine.add_admin_async("ops", "pw")
        token = await engine.admin_login_async("ops", "pw")
        who = engine.verify_admin_token(token["token"])
        await engine.set_admin_password_async("ops", "pw2")
        with pytest.raises(tandem.UnauthenticatedError):
            await engine.admin_login_async("ops", "pw")
        await engine.remove_admin_async("ops")
        with pytest.raises(tandem.NotFoundError):
            await engine.remove_admin_async("ops")
        return added, who

    added, who = asyncio.run(main())
    assert added["username"] == who["username"] == "ops"
    assert engine.admins() == []


def test_api_keys_are_created_verified_listed_and_revoked(engine):
    d = engine.create_domain("acme", "docs")
    other = engine.create_domain("acme", "other")
    created = d.create_api_key("ci", read_only=True)
    assert created["key"]["name"] == "ci" and created["key"]["read_only"] is True
    assert d.verify_api_key(created["token"]) == created["key"]
    with pytest.raises(tandem.UnauthenticatedError):
        other.verify_api_key(created["token"])
    with pytest.raises(tandem.UnauthenticatedError):
        d.verify_api_key("nope")
    async def deploy():
        return await d.create_api_key_async("deploy")

    rw = asyncio.run(deploy())
    assert rw["key"]["read_only"] is False
    assert sorted(k["id"] for k in d.api_keys()) == sorted([created["key"]["id"], rw["key"]["id"]])
    assert all("token" not in k for k in d.api_keys())
    d.revoke_api_key(created["key"]["id"])
    with pytest.raises(tandem.UnauthenticatedError):
        d.verify_api_key(created["token"])
    with pytest.raises(tandem.NotFoundError):
        d.revoke_api_key(created["key"]["id"])
    async def revoke():
        await d.revoke_api_key_async(rw["key"]["id"])

    asyncio.run(revoke())
    assert d.api_keys() == []


def test_sessions_none_connected_and_unknown_disconnect_is_not_found(engine):
    d = engine.create_domain("acme", "docs")
    assert d.sessions() == []
    with pytest.raises(tandem.NotFoundError) as failed:
        d.disconnect_session("nope")
    assert failed.value.name == "not_found"


def test_a_webhook_gets_a_delivery_for_a_created_model(engine):
    d = engine.create_domain("acme", "docs")
    assert d.webhooks() == []
    with pytest.raises(tandem.InvalidArgumentError):
        d.add_webhook({"url": "ftp://127.0.0.1/x", "events": ["model.created"]})
    with pytest.raises(tandem.InvalidArgumentError):
        d.add_webhook({"url": "http://127.0.0.1:9/x", "events": ["bogus"]})
    hook = d.add_webhook({"url": "http://127.0.0.1:9/x", "events": ["model.created"]})
    assert hook["url"] == "http://127.0.0.1:9/x" and hook["events"] == ["model.created"]
    assert isinstance(hook["secret"], str) and hook["secret"]
    listed = {k: v for k, v in hook.items() if k != "secret"}
    assert d.webhooks() == [listed]

    with d.subscribe() as sub:
        d.create_model("notes", {"t": 1}, id="w1")
        created = next_of(sub, "model_created")
        assert created == {"type": "model_created", "namespace": "acme", "domain": "docs", "model": "w1",
                           "collection": "notes"}
        deliveries = []
        for _ in range(200):
            deliveries = d.webhook_deliveries(hook["id"])
            if deliveries:
                break
            time.sleep(0.025)
        assert len(deliveries) == 1
        delivery = deliveries[0]
        assert delivery["event"] == "model.created"
        assert delivery["id"].startswith(hook["id"] + ".") and delivery["number"] == 1
        assert delivery["status"] in ("pending", "failed")
        d.model("w1").delete()
        deleted = next_of(sub, "model_deleted")
        assert (deleted["model"], deleted["collection"]) == ("w1", "notes")

    d.remove_webhook(hook["id"])
    with pytest.raises(tandem.NotFoundError):
        d.remove_webhook(hook["id"])
    with pytest.raises(tandem.NotFoundError):
        d.webhook_deliveries(hook["id"])
    assert d.webhooks() == []

    async def again():
        h = await d.add_webhook_async({"url": "https://example.invalid/x", "events": ["chat.message"]})
        await d.remove_webhook_async(h["id"])
        return h

    assert asyncio.run(again())["events"] == ["chat.message"]
    assert d.webhooks() == []


def test_activities_lists_the_activities_a_host_created(engine):
    d = engine.create_domain("acme", "docs")
    assert d.activities() == []
    d.create_activity("board", "b2")
    d.create_activity("board", "b1", {"world": ["join"]})
    listed = d.activities()
    assert [(a["activity_type"], a["id"], a["ephemeral"]) for a in listed] == [("board", "b1", False),
                                                                              ("board", "b2", False)]
    assert isinstance(listed[0]["created_ms"], int)
    d.delete_activity("board", "b1")
    assert [a["id"] for a in d.activities()] == ["b2"]


def test_the_config_takes_webhooks_and_the_rest_body_limit():
    config = {"webhooks": {"timeout_ms": 500, "max_attempts": 2, "max_per_domain": 1}}
    with tandem.Engine.open(config) as e:
        assert e.config["webhooks"]["max_attempts"] == 2
        d = e.create_domain("acme", "docs")
        d.add_webhook({"url": "http://127.0.0.1:9/x", "events": ["model.created"]})
        with pytest.raises(tandem.InvalidOperationError):
            d.add_webhook({"url": "http://127.0.0.1:9/y", "events": ["model.created"]})
        assert e.listen("127.0.0.1:0", {"max_rest_body_bytes": 1024}).startswith("127.0.0.1:")
    with pytest.raises(tandem.ConfigError):
        tandem.Engine.open({"webhooks": {"timeout_ms": 0}})
