"""The shared facade scenario (tests/conformance/scenario.json) through the Python handles."""

import json
import os
import re

import tandem

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "..", "..", "tests", "conformance", "scenario.json")


def call(e, name, a):
    def d():
        return e.domain(a["namespace"], a["domain"])

    if name == "create_domain":
        return e.create_domain(a["namespace"], a["domain"])
    if name == "domains":
        return [list(x) for x in e.domains()]
    if name == "create_collection":
        return d().create_collection(a["collection"])
    if name == "collections":
        return d().collections()
    if name == "create_user":
        return d().create_user({"username": a["username"], "password": a.get("password")})
    if name == "users":
        return [u["username"] for u in d().users()]
    if name == "set_password":
        return d().set_password(a["username"], a["password"])
    if name == "create_model":
        return d().create_model(a["collection"], a["data"], a.get("model_id")).id
    if name == "apply":
        return d().model(a["model_id"]).apply(a["changes"])
    if name == "model_json":
        m = d().model(a["model_id"])
        return m.json() if a.get("version") is None else m.json_at(a["version"])
    if name == "delete_model":
        return d().model(a["model_id"]).delete()
    if name == "undo":
        m = d().model(a["model_id"])
        return m.redo(a["scope"]) if a.get("redo") else m.undo(a["scope"])
    if name == "shutdown":
        return e.shutdown()
    if name in MODEL_CALLS:
        return MODEL_CALLS[name](d().model(a["model_id"]), a)
    if name in DOMAIN_CALLS:
        return DOMAIN_CALLS[name](d(), a)
    raise AssertionError(f"unknown call {name}")


DOMAIN_CALLS = {
    "user": lambda d, a: d.user(a["username"]),
    "update_user": lambda d, a: d.update_user(a["username"], a["profile"]),
    "set_user_disabled": lambda d, a: d.set_user_disabled(a["username"], a["disabled"]),
    "create_group": lambda d, a: d.create_group(a["group"], a["description"]),
    "set_group_description": lambda d, a: d.set_group_description(a["group"], a["description"]),
    "delete_group": lambda d, a: d.delete_group(a["group"]),
    "group": lambda d, a: d.group(a["group"]),
    "groups": lambda d, a: d.groups(),
    "add_group_member": lambda d, a: d.add_group_member(a["group"], a["user"]),
    "remove_group_member": lambda d, a: d.remove_group_member(a["group"], a["user"]),
    "user_groups": lambda d, a: d.user_groups(a["user"]),
    "presence": lambda d, a: d.presence(a["users"]),
    "collection_permissions": lambda d, a: d.collection_permissions(a["collection"]),
    "set_collection_world": lambda d, a: d.set_collection_world(a["collection"], a["world"]),
    "set_collection_user": lambda d, a: d.set_collection_user(a["collection"], a["user"], a["rights"]),
    "permissions": lambda d, a: d.permissions(a["target"]),
    "change_permissions": lambda d, a: d.change_permissions(a["target"], a["change"]),
    "resolve_permissions": lambda d, a: d.resolve_permissions(a["target"], a["user"]),
    "settings": lambda d, a: d.settings(),
    "set_settings": lambda d, a: d.set_settings(a["settings"]),
    "set_state": lambda d, a: d.set_state(a["state"]),
    "admin_token": lambda d, a: d.admin_token(a["username"], a["ttl_secs"]),
    "create_activity": lambda d, a: d.create_activity(a["type"], a["id"], a["permissions"]),
    "delete_activity": lambda d, a: d.delete_activity(a["type"], a["id"]),
    "activity_exists": lambda d, a: d.activity_exists(a["type"], a["id"]),
    "activity_participants": lambda d, a: d.activity_participants(a["type"], a["id"]),
    "create_chat": lambda d, a: d.create_chat(a["chat"]),
    "direct_chat": lambda d, a: d.direct_chat(a["users"]),
    "remove_chat": lambda d, a: d.remove_chat(a["id"]),
    "chat": lambda d, a: d.chat(a["id"]),
    "chats": lambda d, a: d.chats(),
    "add_chat_member": lambda d, a: d.add_chat_member(a["id"], a["user"]),
    "remove_chat_member": lambda d, a: d.remove_chat_member(a["id"], a["user"]),
    "set_chat_name": lambda d, a: d.set_chat_name(a["id"], a["name"]),
    "set_chat_topic": lambda d, a: d.set_chat_topic(a["id"], a["topic"]),
    "post_chat_message": lambda d, a: d.post_chat_message(a["id"], a["text"], user=a["user"]),
    "chat_history": lambda d, a: d.chat_history(a["id"], a["query"]),
    "query": lambda d, a: d.query(a["query"], user=a["user"]),
}

MODEL_CALLS = {
    "model_permissions": lambda m, a: m.permissions(),
    "set_model_permissions": lambda m, a: m.set_permissions(a["change"]),
    "rights_of": lambda m, a: m.rights_of(a["user"]),
}

def like(got, want):
    """Whether `got` matches `want` as the scenario's `like` says: an object names some of the
    result's fields, a list has its length and matching elements, anything else is equal."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and like(got[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(like, got, want))
    return bool(got == want)


JWT = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")


def test_shared_scenario():
    with open(SCENARIO) as f:
        steps = json.load(f)["steps"]
    e = tandem.Engine.open()
    for i, step in enumerate(steps):
        expect = step["expect"]
        try:
            got = call(e, step["call"], step["args"])
        except tandem.TandemError as err:
            assert isinstance(expect, dict) and "error" in expect, f"step {i} {step['call']}: unexpected {err!r}"
            assert err.name == expect["error"], f"step {i} {step['call']}: {err.name} != {expect['error']}"
            assert isinstance(err, tandem.ERRORS[err.code])
            continue
        assert not (isinstance(expect, dict) and "error" in expect), f"step {i} {step['call']}: expected an error"
        if not isinstance(expect, dict):
            continue
        got = json.loads(json.dumps(got))  # (user, rights) tuples compare as the scenario's lists
        what = f"step {i} {step['call']}: {got!r}"
        if "result" in expect:
            assert got == expect["result"], what
        if "like" in expect:
            assert like(got, expect["like"]), f"{what} is not like {expect['like']!r}"
        if "shape" in expect:
            assert expect["shape"] == "jwt" and JWT.fullmatch(got), what
