"""The shared facade scenario (tests/conformance/scenario.json) through the Python binding."""

import json
import os

import tandem

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "..", "..", "tests", "conformance", "scenario.json")


def call(e, name, a):
    if name == "create_domain":
        return e.create_domain(a["namespace"], a["domain"])
    if name == "domains":
        return [list(d) for d in e.domains()]
    if name == "create_collection":
        return e.create_collection(a["namespace"], a["domain"], a["collection"])
    if name == "collections":
        return e.collections(a["namespace"], a["domain"])
    if name == "create_user":
        return e.create_user(a["namespace"], a["domain"], a["username"], a.get("password"))
    if name == "users":
        return e.users(a["namespace"], a["domain"])
    if name == "set_password":
        return e.set_password(a["namespace"], a["domain"], a["username"], a["password"])
    if name == "create_model":
        return e.create_model(a["namespace"], a["domain"], a["collection"], a["data"], a.get("model_id"))
    if name == "apply":
        return e.apply(a["namespace"], a["domain"], a["model_id"], a["changes"])
    if name == "model_json":
        return e.model_json(a["namespace"], a["domain"], a["model_id"], a.get("version"))
    if name == "delete_model":
        return e.delete_model(a["namespace"], a["domain"], a["model_id"])
    if name == "shutdown":
        return e.shutdown()
    raise AssertionError(f"unknown call {name}")


def test_shared_scenario():
    with open(SCENARIO) as f:
        steps = json.load(f)["steps"]
    e = tandem.Engine()
    for i, step in enumerate(steps):
        expect = step["expect"]
        try:
            got = call(e, step["call"], step["args"])
        except tandem.TandemError as err:
            assert isinstance(expect, dict) and "error" in expect, f"step {i} {step['call']}: unexpected {err!r}"
            assert err.name == expect["error"], f"step {i} {step['call']}: {err.name} != {expect['error']}"
            continue
        assert not (isinstance(expect, dict) and "error" in expect), f"step {i} {step['call']}: expected an error"
        if isinstance(expect, dict) and "result" in expect:
            assert got == expect["result"], f"step {i} {step['call']}: {got!r}"
