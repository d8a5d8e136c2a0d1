"""
What routes depend on, as ``Annotated`` aliases (``StoreDep``, ``PipelineDep``, …).

The app keeps one :class:`ApiContext` in ``app.state.context``; each getter reads its part, so a
unit test can replace any of them with ``app.dependency_overrides[get_health] = …``. The getters
are ``async`` only so that FastAPI calls them inline instead of in its thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..health import HealthProbe
from ..metrics import NodeMetrics
from ..pipeline import InferencePipeline
from ..proofs import BatchProofs
from ..runtime import ModelRuntime
from ..store import Store


@dataclass(frozen=True)
class ApiContext:
    """Everything the routes use."""

    store: Store
    runtime: ModelRuntime
    pipeline: InferencePipeline
    proofs: BatchProofs
    health: HealthProbe
    metrics: NodeMetrics
    node_address: str


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


async def get_store(request: Request) -> Store:
    return _context(request).store


async def get_runtime(request: Request) -> ModelRuntime:
    return _context(request).runtime


async def get_pipeline(request: Request) -> InferencePipeline:
    return _context(request).pipeline


async def get_proofs(request: Request) -> BatchProofs:
    return _context(request).proofs


async def get_health(request: Request) -> HealthProbe:
    return _context(request).health


async def get_metrics(request: Request) -> NodeMetrics:
    return _context(request).metrics


async def get_node_address(request: Request) -> str:
    return _context(request).node_address


StoreDep = Annotated[Store, Depends(get_store)]
RuntimeDep = Annotated[ModelRuntime, Depends(get_runtime)]
PipelineDep = Annotated[InferencePipeline, Depends(get_pipeline)]
ProofsDep = Annotated[BatchProofs, Depends(get_proofs)]
HealthDep = Annotated[HealthProbe, Depends(get_health)]
MetricsDep = Annotated[NodeMetrics, Depends(get_metrics)]
NodeAddressDep = Annotated[str, Depends(get_node_address)]
