"""The shared facade scenario (tests/conformance/scenario.json) through the Python handles."""

import json
import os

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
    if name == "shutdown":
        return e.shutdown()
    raise AssertionError(f"unknown call {name}")


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
        if isinstance(expect, dict) and "result" in expect:
            assert got == expect["result"], f"step {i} {step['call']}: {got!r}"
