"""
The FastAPI app factory.

:func:`create_app` takes an :class:`~node.api.deps.ApiContext` (store, runtime, pipeline, proofs,
health probe, metrics) and optional startup/shutdown hooks (the service starts the receipt writer
and the scheduler there), and returns the app with its middleware, error handlers and routers.
Nothing is created at import time, so tests build as many apps as they like.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from .api.deps import ApiContext
from .api.main import api_router, root_router
from .api.middleware import BodyLimitMiddleware, MetricsMiddleware
from .api.responses import OrjsonResponse
from .errors import install_error_handlers

Hook = Callable[[], None]


def _operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(
    context: ApiContext,
    *,
    max_body_bytes: int = 65_536,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
) -> FastAPI:
    """The node's HTTP app over ``context``."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="opzk inference node",
        description=(
            "Serves quantized models; every result becomes a receipt committed on-chain in a "
            "batch root and can be disputed during its challenge window."
        ),
        version="1",
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
        generate_unique_id_function=_operation_id,
    )
    app.state.context = context
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(root_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=context.metrics)
    return app
