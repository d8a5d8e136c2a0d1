"""
``POST /v1/inferences``: run an inference and store its receipt before answering.

This is the node's hot path, so the body is parsed by pydantic's own JSON parser straight from the
raw bytes (``InferenceCreate.model_validate_json``, several times faster than FastAPI's generic
body handling) and the answer is rendered with orjson. Errors still go through the app's handlers:
a validation error is raised as FastAPI's ``RequestValidationError`` (so it reads exactly like any
other), malformed JSON is a 400, a body not declared as JSON a 415.
"""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from ...errors import UnsupportedMediaTypeError, is_json_request
from ..convert import int8_list
from ..deps import PipelineDep, RuntimeDep
from ..responses import OrjsonResponse
from ..schemas import InferenceCreate, InferencePublic

router = APIRouter(prefix="/inferences", tags=["inferences"])

ZERO_ADDRESS = "0x" + "00" * 20

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON"},
    413: {"description": "Body too large"},
    415: {"description": "Body not declared as JSON"},
    422: {"description": "Unknown model, wrong length, value out of range, non-finite float"},
}

_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": InferenceCreate.model_json_schema()}},
    }
}


async def parse_inference(request: Request) -> InferenceCreate:
    """The request body as an :class:`InferenceCreate`, or the error the handlers answer."""
    if not is_json_request(request):
        raise UnsupportedMediaTypeError(request.headers.get("content-type"))
    raw = await request.body()
    try:
        return InferenceCreate.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


@router.post(
    "", status_code=201, response_model=InferencePublic, responses=_ERRORS, openapi_extra=_BODY
)
async def create_inference(
    request: Request, runtime: RuntimeDep, pipeline: PipelineDep
) -> Response:
    """Run an inference; its receipt is stored before the answer and committed in a batch."""
    body = await parse_inference(request)
    served = runtime.get(bytes.fromhex(body.model_id[2:]))
    x = served.prepare(body.input, body.input_float)
    client = to_checksum_address(body.client) if body.client else ZERO_ADDRESS
    receipt = await pipeline.infer(served.model_id, x, client)
    request_id = receipt.request_id
    return OrjsonResponse(
        {
            "request_id": request_id,
            "model_id": body.model_id.lower(),
            "output": int8_list(receipt.output),
            "receipt_leaf": "0x" + receipt.receipt_leaf.hex(),
            "status": "pending",
        },
        status_code=201,
        headers={"location": f"/v1/receipts/{request_id}"},
    )
