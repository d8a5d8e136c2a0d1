"""
Builders for the node's unit tests: served models on disk, and the real app over a real SQLite
store with a fake health probe (the chain's stand-in, allowed here as a unit collaborator only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.digits import MODEL_PATH as DIGITS_PATH
from models.store import save_model
from node.api.deps import ApiContext
from node.app import create_app
from node.health import HealthCheck, HealthReport
from node.metrics import NodeMetrics
from node.pipeline import InferencePipeline
from node.proofs import BatchProofs
from node.runtime import Backend, ModelRuntime, ServedModel, serve_model
from node.store import Store
from node.writer import ReceiptWriter
from protocol.model import QuantizedModel
from tests import factories

NODE = "0x1111111111111111111111111111111111111111"
CLIENT = "0x2222222222222222222222222222222222222222"
MAX_BODY = 4096


class FakeHealth:
    """A health probe whose report the test sets."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok

    def report(self) -> HealthReport:
        check = HealthCheck("chain", self.ok, "fake chain" if self.ok else "fake chain is down")
        return HealthReport((check,), {"node": NODE})


@dataclass
class Node:
    """A node app and its parts."""

    app: FastAPI
    store: Store
    runtime: ModelRuntime
    pipeline: InferencePipeline
    writer: ReceiptWriter
    health: FakeHealth
    metrics: NodeMetrics
    models: dict[str, ServedModel]


def model_files(directory: Path) -> dict[str, Path]:
    """The public, sensitive and digits models as files under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    built: dict[str, QuantizedModel] = {
        "public": factories.public_model(),
        "sensitive": factories.sensitive_model(),
    }
    paths = {}
    for name, model in built.items():
        path = directory / f"{name}.opzkmodel"
        save_model(model, path)
        paths[name] = path
    paths["digits"] = DIGITS_PATH
    return paths


def build_node(
    directory: Path,
    *,
    names: Sequence[str] = ("public", "sensitive", "digits"),
    backend: Backend = "torch",
    database: str | None = None,
) -> Node:
    """The real app (store, runtime, pipeline, writer) with a fake health probe."""
    paths = model_files(directory / "models")
    served = {name: serve_model(paths[name]) for name in names}
    runtime = ModelRuntime(list(served.values()), backend=backend, threads=1)
    store = Store(database or f"sqlite:///{directory / 'node.sqlite3'}")
    metrics = NodeMetrics(store)
    writer = ReceiptWriter(store)
    pipeline = InferencePipeline(
        runtime, writer, node_address=NODE, first_request_id=store.last_request_id() + 1,
        metrics=metrics,
    )  # fmt: skip
    health = FakeHealth()
    context = ApiContext(
        store=store,
        runtime=runtime,
        pipeline=pipeline,
        proofs=BatchProofs(store),
        health=health,
        metrics=metrics,
        node_address=NODE,
    )
    app = create_app(
        context, max_body_bytes=MAX_BODY, on_startup=writer.start, on_shutdown=writer.stop
    )
    return Node(app, store, runtime, pipeline, writer, health, metrics, served)


@contextmanager
def running(node: Node) -> Iterator[TestClient]:
    """A test client with the app's startup and shutdown run."""
    with TestClient(node.app, raise_server_exceptions=False) as client:
        yield client
