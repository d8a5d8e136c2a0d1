"""The API's routers: ``/v1/…`` resources, plus ``/healthz`` and ``/metrics`` at the root."""

from __future__ import annotations

from fastapi import APIRouter

from .routes import batches, inferences, models, receipts, requests, traces, utils

API_PREFIX = "/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(inferences.router)
api_router.include_router(receipts.router)
api_router.include_router(requests.router)
api_router.include_router(traces.router)
api_router.include_router(batches.router)
api_router.include_router(models.router)

root_router = APIRouter()
root_router.include_router(utils.router)
