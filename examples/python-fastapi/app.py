"""A FastAPI backend hosting Tandem in-process.

The Convergence client connects to the engine's listener; the app creates models from its API
and saves a model to its own store when the last session leaves (an asyncio task reads the
engine's events). Run: pip install -r requirements.txt, build the binding
(../../bindings/python/run-tests.sh installs it into a venv), then: uvicorn app:app
"""

import asyncio
import json
import pathlib

from fastapi import FastAPI, HTTPException

import tandem

STORE = pathlib.Path(__file__).parent / "saved"
engine = tandem.Engine({"data_dir": str(pathlib.Path(__file__).parent / "tandem-data")})
app = FastAPI()


@app.on_event("startup")
async def start() -> None:
    STORE.mkdir(exist_ok=True)
    try:
        engine.create_domain("demo", "default", anonymous_auth=True)
    except tandem.AlreadyExists:
        pass
    address = engine.listen("127.0.0.1:8002")
    print(f"Convergence clients connect to ws://{address}/realtime/demo/default")
    asyncio.get_running_loop().create_task(save_when_last_session_leaves())


async def save_when_last_session_leaves() -> None:
    async for event in engine.subscribe(namespace="demo", domain="default"):
        if event["type"] == "last_session_left":
            data = engine.model_json("demo", "default", event["model"])
            (STORE / f"{event['model']}.json").write_text(json.dumps(data, indent=2))


@app.on_event("shutdown")
def stop() -> None:
    engine.shutdown()


@app.post("/docs/{doc_id}", status_code=201)
def create(doc_id: str, body: dict) -> dict:
    try:
        return {"id": engine.create_model("demo", "default", "docs", body, model_id=doc_id)}
    except tandem.AlreadyExists:
        raise HTTPException(409, "exists")
    except tandem.InvalidArgument as e:
        raise HTTPException(400, e.message)


@app.get("/docs/{doc_id}")
def read(doc_id: str) -> dict:
    try:
        return engine.model_json("demo", "default", doc_id)
    except tandem.NotFound:
        raise HTTPException(404, "no such document")
