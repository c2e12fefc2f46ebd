"""A typed use of the package, checked by `mypy --strict` and run by pytest."""

import asyncio

import tandem


def test_typed_round_trip() -> None:
    with tandem.Engine.open() as engine:
        domain = engine.create_domain("typed", "d", {"anonymous_auth": True})
        model = domain.create_model("notes", {"text": "hi"}, id="t1")
        version: int = model.apply({"op": "splice", "path": ["text"], "index": 2, "insert": "!"})
        assert version == 2
        user: tandem.User = domain.create_user({"username": "ann", "password": "pw"})
        assert user["has_password"]
        assert model.json() == {"text": "hi!"}

        async def main() -> int:
            with model.subscribe() as sub:
                v = await model.apply_async({"op": "splice", "path": ["text"], "index": 0, "insert": ">"})
                async for event in sub:
                    assert event["version"] == v
                    break
                assert sub.try_next() is None
                return v

        assert asyncio.run(main()) == 3
        bob: tandem.UserId = {"kind": "normal", "name": "ann"}
        group: tandem.Group = domain.create_group("editors", "Editors")
        domain.add_group_member(group["id"], bob)
        domain.set_collection_world("notes", {"read": True})
        model.set_permissions({"override_world": True, "world": {}, "set_users": [(bob, {"write": True})]})
        rights: tandem.ModelRights = model.rights_of(bob)
        assert rights["write"] and not rights["read"]
        page: tandem.QueryPage = domain.query("SELECT * FROM notes WHERE text = '>hi!'")
        assert [m["id"] for m in page["models"]] == ["t1"] and page["total"] == 1
        assert domain.query("SELECT * FROM notes", user=bob)["total"] == 0

        async def ask() -> "tandem.QueryPage":
            return await domain.query_async("SELECT text FROM notes ORDER BY @id LIMIT 1")

        assert asyncio.run(ask())["models"][0]["data"] == {"text": ">hi!"}
        domain.create_chat({"id": "lobby", "kind": "channel"})
        direct: tandem.ChatInfo = domain.direct_chat([bob])
        assert direct["kind"] == "direct"
        domain.change_permissions({"kind": "chat", "id": "lobby"}, {"add": {"world": ["join_chat"]}})
        domain.create_activity("board", "b1", {"world": ["join", "view_state"]})
        exists: bool = domain.activity_exists("board", "b1")
        participants: list[tandem.ActivityParticipant] = domain.activity_participants("board", "b1")
        kind: tandem.ActivityChangeKind = "state_changed"
        assert exists and participants == [] and kind != "deleted"
        domain.delete_activity("board", "b1")
        domain.create_activity("board", "b2")
        listed: list[tandem.ActivityInfo] = domain.activities()
        sessions: list[tandem.ConnectedSession] = domain.sessions()
        assert listed[0]["activity_type"] == "board" and sessions == []
        hook: tandem.RegisteredWebhook = domain.add_webhook({"url": "http://127.0.0.1:9/x", "events": ["model.created"]})
        hooks: list[tandem.Webhook] = domain.webhooks()
        deliveries: list[tandem.WebhookDelivery] = domain.webhook_deliveries(hook["id"])
        assert hooks[0]["id"] == hook["id"] and all(x["event"] == "model.created" for x in deliveries)
        domain.remove_webhook(hook["id"])
        key: tandem.NewApiKey = domain.create_api_key("ci", read_only=True)
        found: tandem.ApiKey = domain.verify_api_key(key["token"])
        assert found["read_only"] and [k["id"] for k in domain.api_keys()] == [found["id"]]
        domain.revoke_api_key(found["id"])
        admin: tandem.Admin = engine.add_admin("root", "s3cret")
        login: tandem.AdminToken = engine.admin_login("root", "s3cret")
        assert engine.verify_admin_token(login["token"])["username"] == admin["username"]
        engine.remove_admin("root")
        config: tandem.EngineConfig = {"webhooks": {"max_attempts": 3}}
        net: tandem.NetConfig = {"max_rest_body_bytes": 1 << 20}
        assert config["webhooks"].get("max_attempts") == 3 and net["max_rest_body_bytes"] > 0
        domain.set_state("maintenance")
        token: str = domain.admin_token("ops", 60)
        assert token and domain.settings().get("state") == "maintenance"
        try:
            domain.model("missing")
        except tandem.NotFoundError as e:
            assert e.code == 2 and e.name == "not_found"
        else:
            raise AssertionError("expected NotFoundError")
