"""Runs the example against a live engine (the test suite runs this): starts the app with its
lifespan, creates a document, edits it, reads it back, and asks the engine's listener for its
health."""

import os
import urllib.request

os.environ.setdefault("TANDEM_LISTEN", "127.0.0.1:0")

from fastapi.testclient import TestClient  # noqa: E402

from app import Host, app  # noqa: E402


def main() -> None:
    with TestClient(app) as client:
        created = client.post("/docs/d1", json={"text": "hi"})
        assert created.status_code == 201 and created.json() == {"id": "d1"}, created.text
        changed = client.post("/docs/d1/changes", json=[{"op": "splice", "path": ["text"], "index": 2, "insert": "!"}])
        assert changed.json() == {"version": 2}, changed.text
        read = client.get("/docs/d1")
        assert read.status_code == 200 and read.json() == {"text": "hi!"}, read.text
        assert client.get("/docs/nope").status_code == 404
        with urllib.request.urlopen(f"http://{Host.address}/health", timeout=5) as r:
            assert r.status == 200 and b'"ok"' in r.read()
    print("example ok: created, changed and read /docs/d1 through FastAPI on a live engine")


if __name__ == "__main__":
    main()
