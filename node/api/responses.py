"""A JSON response rendered with orjson (several times faster than the standard library)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    """``application/json`` via :func:`orjson.dumps`."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
