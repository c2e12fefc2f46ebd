"""A FastAPI backend hosting Tandem in-process, without blocking its event loop.

The Convergence client connects to the engine's listener; the app creates and edits models
from its API (awaiting the engine) and saves a model to its own store when the last session
leaves (a task reads the engine's events with ``async for``).

Run: pip install tandem-*.whl -r requirements.txt, then: uvicorn app:app
"""

import asyncio
import json
import os
import pathlib
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Optional, Union

from fastapi import FastAPI, HTTPException

import tandem

HERE = pathlib.Path(__file__).parent
DATA_DIR = pathlib.Path(os.environ.get("TANDEM_DATA_DIR", HERE / "tandem-data"))
SAVED_DIR = pathlib.Path(os.environ.get("TANDEM_SAVED_DIR", DATA_DIR.parent / "saved"))
LISTEN = os.environ.get("TANDEM_LISTEN", "127.0.0.1:8002")


class Host:
    """The engine and the app's domain, set while the app runs."""

    engine: Optional[tandem.Engine] = None
    domain: Optional[tandem.Domain] = None
    address: str = ""


def domain() -> tandem.Domain:
    if Host.domain is None:
        raise HTTPException(503, "the engine is not running")
    return Host.domain


async def save_when_last_session_leaves(events: tandem.Subscription) -> None:
    async for event in events:
        if event["type"] == "last_session_left":
            data = await domain().model(event["model"]).json_async()
            text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
            await asyncio.to_thread((SAVED_DIR / f"{event['model']}.json").write_text, text)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    SAVED_DIR.mkdir(parents=True, exist_ok=True)
    engine = await asyncio.to_thread(tandem.Engine.open, {"data_dir": str(DATA_DIR)})
    try:
        Host.domain = await engine.create_domain_async("demo", "default", {"anonymous_auth": True})
    except tandem.AlreadyExistsError:
        Host.domain = engine.domain("demo", "default")
    Host.engine = engine
    Host.address = await asyncio.to_thread(engine.listen, LISTEN)
    print(f"Convergence clients connect to ws://{Host.address}/realtime/demo/default")
    saver = asyncio.create_task(save_when_last_session_leaves(Host.domain.subscribe()))
    try:
        yield
    finally:
        Host.domain = None
        await asyncio.to_thread(engine.shutdown)  # ends the subscription, so the saver ends
        await saver


app = FastAPI(lifespan=lifespan)


@app.post("/docs/{doc_id}", status_code=201)
async def create(doc_id: str, body: Dict[str, Any]) -> Dict[str, str]:
    try:
        model = await domain().create_model_async("docs", body, id=doc_id)
    except tandem.AlreadyExistsError:
        raise HTTPException(409, "exists")
    except tandem.InvalidArgumentError as e:
        raise HTTPException(400, e.message)
    return {"id": model.id}


@app.post("/docs/{doc_id}/changes")
async def change(doc_id: str, changes: Union[Dict[str, Any], List[Dict[str, Any]]]) -> Dict[str, int]:
    try:
        version = await domain().model(doc_id).apply_async(changes)
    except tandem.NotFoundError:
        raise HTTPException(404, "no such document")
    except (tandem.InvalidArgumentError, tandem.InvalidOperationError) as e:
        raise HTTPException(400, e.message)
    return {"version": version}


@app.get("/docs/{doc_id}")
async def read(doc_id: str) -> Any:
    try:
        return await domain().model(doc_id).json_async()
    except tandem.NotFoundError:
        raise HTTPException(404, "no such document")
