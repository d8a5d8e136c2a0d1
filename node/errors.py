"""
Domain errors → HTTP statuses, each answered as JSON ``{"detail": "<reason>"}``.

Routes stay thin: they let :class:`node.runtime.InputError` and friends propagate, and the handlers
registered here by :func:`install_error_handlers` choose the status. Validation errors become one
readable ``detail`` line (plus the structured ``errors`` list, without echoing the input, which may
hold NaN that JSON cannot carry); malformed JSON is a 400, a body that is not declared JSON a 415.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .api.responses import OrjsonResponse
from .runtime import InputError, UnknownModelError
from .store import StoreError

log = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 5


def _loc(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def describe_validation(exc: RequestValidationError) -> tuple[int, str, list[dict[str, str]]]:
    """(status, one-line reason, structured errors) of a request validation error."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        context = first.get("ctx") or {}
        reason = context.get("error", "") if isinstance(context, dict) else ""
        return 400, f"malformed JSON body: {reason or first.get('msg', 'invalid JSON')}", []
    listed = [
        {"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
        for e in errors
    ]
    lines = [f"{e['loc']}: {e['msg']}" for e in listed[:MAX_LISTED_ERRORS]]
    if len(listed) > MAX_LISTED_ERRORS:
        lines.append(f"… and {len(listed) - MAX_LISTED_ERRORS} more")
    return 422, "; ".join(lines), listed


class UnsupportedMediaTypeError(Exception):
    """A request body that is not declared as JSON."""

    def __init__(self, content_type: str | None) -> None:
        super().__init__(
            "the body must be JSON: send Content-Type: application/json "
            f"(got {content_type or 'none'})"
        )


def is_json_request(request: Request) -> bool:
    """Whether the request declares a JSON body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    body_error = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())
    if body_error and request.method in ("POST", "PUT", "PATCH") and not is_json_request(request):
        return await _media_type(
            request, UnsupportedMediaTypeError(request.headers.get("content-type"))
        )
    status, reason, listed = describe_validation(exc)
    body: dict[str, object] = {"detail": reason}
    if listed:
        body["errors"] = listed
    return OrjsonResponse(body, status_code=status)


async def _unprocessable(_: Request, exc: Exception) -> Response:
    return OrjsonResponse({"detail": str(exc)}, status_code=422)


async def _media_type(_: Request, exc: Exception) -> Response:
    return OrjsonResponse({"detail": str(exc)}, status_code=415)


async def _unavailable(_: Request, exc: Exception) -> Response:
    log.error("database error: %s", exc)
    return OrjsonResponse({"detail": f"storage unavailable: {exc}"}, status_code=503)


async def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return OrjsonResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _internal(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return OrjsonResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Registers every handler on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InputError, _unprocessable)
    app.add_exception_handler(UnknownModelError, _unprocessable)
    app.add_exception_handler(UnsupportedMediaTypeError, _media_type)
    app.add_exception_handler(StoreError, _unavailable)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
