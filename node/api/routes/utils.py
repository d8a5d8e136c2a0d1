"""``GET /healthz`` and ``GET /metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...metrics import CONTENT_TYPE
from ..deps import HealthDep, MetricsDep
from ..responses import OrjsonResponse
from ..schemas import CheckPublic, HealthPublic

router = APIRouter(tags=["utils"])


@router.get("/healthz", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def read_health(health: HealthDep) -> Response:
    """Chain reachable, deployment loaded, every served model registered: 200, else 503."""
    report = await run_in_threadpool(health.report)
    body = HealthPublic(
        status="ok" if report.ok else "unhealthy",
        checks={c.name: CheckPublic(ok=c.ok, detail=c.detail) for c in report.checks},
        info=report.info,
    )
    return OrjsonResponse(body.model_dump(), status_code=200 if report.ok else 503)


@router.get("/metrics", response_class=Response)
async def read_metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics (text exposition format)."""
    text = await run_in_threadpool(metrics.render)
    return Response(text, media_type=CONTENT_TYPE)
