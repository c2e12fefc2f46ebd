"""The unmodified Convergence client against an engine a Python host runs: the client (in a
Node process, tests/e2e's package) joins an activity the host made, and the host sees it
through its subscription and its participants; a permission taken away or a deleted activity
puts the client out."""

import json
import os
import select
import subprocess

import pytest

import tandem

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = os.path.join(HERE, "..", "..", "..", "tests", "e2e", "node_modules")
BOB = {"kind": "normal", "name": "bob"}


class RealClient:
    """A Convergence client in a Node process, driven by one command per line."""

    def __init__(self, url, user, password):
        env = dict(os.environ, NODE_PATH=os.path.abspath(NODE_MODULES))
        script = os.path.join(HERE, "clients", "activity.js")
        self.proc = subprocess.Popen(
            ["node", script, url, user, password],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env,
        )

    def line(self, timeout=10.0):
        """The client's next JSON line."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "the client said nothing"
        text = self.proc.stdout.readline()
        assert text, f"the client exited ({self.proc.wait()})"
        return json.loads(text)

    def do(self, command):
        """Sends a command and answers the client's reply to it."""
        self.proc.stdin.write(command + "\n")
        return self.line()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.stdout.close()


def activity_event(sub, kind, timeout=10.0):
    """The next `activity_changed` event of this kind (others are passed over)."""
    while True:
        ev = sub.next(timeout)
        assert ev is not None, f"no {kind} event"
        if ev["type"] == "activity_changed" and ev["kind"] == kind:
            return ev


@pytest.fixture
def served():
    assert os.path.isdir(NODE_MODULES), "run tests/e2e's npm ci first (run-tests.sh does)"
    with tandem.Engine.open() as e:
        d = e.create_domain("demo", "default")
        d.create_user({"username": "bob", "password": "pw"})
        addr = e.listen("127.0.0.1:0")
        client = RealClient(f"ws://{addr}/realtime/demo/default", "bob", "pw")
        try:
            assert "connected" in client.line(), "the client connects"
            yield d, client
        finally:
            client.close()
            e.stop_listening()


def test_the_host_sees_a_real_client_join_change_state_and_leave(served):
    d, client = served
    d.create_activity("board", "b1", {"world": ["join", "view_state", "set_state"]})
    with d.subscribe() as sub:
        reply = client.do('join board b1 {"color": "red"}')
        assert reply["others"] == 0, reply
        joined = activity_event(sub, "joined")
        assert joined["session"] == reply["joined"]
        assert (joined["namespace"], joined["domain"], joined["activity_type"], joined["activity_id"]) == (
            "demo", "default", "board", "b1",
        )
        assert (joined["user"], joined["state"]) == (BOB, {"color": "red"})
        assert d.activity_participants("board", "b1") == [
            {"session": reply["joined"], "user": BOB, "state": {"color": "red"}}
        ]

        assert client.do('set color "blue"') == {"set": "color"}
        changed = activity_event(sub, "state_changed")
        assert (changed["session"], changed["state"]) == (reply["joined"], {"color": "blue"})
        assert d.activity_participants("board", "b1")[0]["state"] == {"color": "blue"}

        assert client.do("leave") == {"left": True}
        assert activity_event(sub, "left")["session"] == reply["joined"]
        assert d.activity_participants("board", "b1") == []


def test_losing_join_or_the_activity_puts_the_real_client_out(served):
    d, client = served
    board = {"kind": "activity", "type": "board", "id": "b1"}
    d.create_activity("board", "b1", {"world": ["join", "view_state"]})
    with d.subscribe() as sub:
        session = client.do("join board b1 {}")["joined"]
        activity_event(sub, "joined")
        d.change_permissions(board, {"remove": {"world": ["join"]}})
        assert client.line() == {"event": "force_leave"}
        assert activity_event(sub, "left")["session"] == session
        assert d.activity_participants("board", "b1") == []

        d.change_permissions(board, {"add": {"users": [(BOB, ["join"])]}})
        again = client.do("join board b1 {}")
        assert again.get("joined") == session, again
        activity_event(sub, "joined")
        d.delete_activity("board", "b1")
        assert client.line() == {"event": "deleted"}
        deleted = activity_event(sub, "deleted")
        assert (deleted["activity_id"], deleted["session"], deleted["user"]) == ("b1", None, None)
        assert not d.activity_exists("board", "b1")


def test_a_real_client_is_refused_what_its_rows_do_not_grant(served):
    d, client = served
    d.create_activity("board", "b1", {"world": ["view_state"]})
    with d.subscribe() as sub:
        assert "not permitted" in client.do("join board b1 {}").get("error", ""), "join needs join"
        assert d.activity_participants("board", "b1") == []
        assert sub.next(0.5) is None, "a refused join is no event"
    # rc.12 keeps a failed activity, so the next try goes to another activity.
    assert "error" in client.do("join board missing {}"), "no activity, no auto-create: refused"
    assert not d.activity_exists("board", "missing")
