"""
Bad input to ``POST /v1/inferences``: each case gets a 4xx with a JSON ``{"detail": reason}``, and
nothing is stored (every table unchanged, no request id used) or queued for posting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.node.helpers import MAX_BODY, Node

Case = Callable[[Node], tuple[bytes, dict[str, str]]]


def _json(body: Any) -> Callable[[Node], tuple[bytes, dict[str, str]]]:
    def build(node: Node) -> tuple[bytes, dict[str, str]]:
        value = body(node) if callable(body) else body
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return raw, {"content-type": "application/json"}

    return build


def pub(node: Node) -> str:
    return "0x" + node.models["public"].model_id.hex()


def dig(node: Node) -> str:
    return "0x" + node.models["digits"].model_id.hex()


GOOD = [3] * 36

CASES: dict[str, tuple[Case, int, str]] = {
    "unknown model": (
        _json(lambda n: {"model_id": "0x" + "12" * 32, "input": GOOD}),
        422,
        "model 0x1212",
    ),
    "model id not hex": (
        _json({"model_id": "digits", "input": GOOD}),
        422,
        "model_id: String should match",
    ),
    "input too short": (
        _json(lambda n: {"model_id": pub(n), "input": GOOD[:-1]}),
        422,
        "`input` has 35 values; model 0x",
    ),
    "input too long": (
        _json(lambda n: {"model_id": pub(n), "input": [*GOOD, 1]}),
        422,
        "takes 36",
    ),
    "empty input": (_json(lambda n: {"model_id": pub(n), "input": []}), 422, "has 0 values"),
    "value above int8": (
        _json(lambda n: {"model_id": pub(n), "input": [*GOOD[:-1], 128]}),
        422,
        "input[35]: Input should be less than or equal to 127",
    ),
    "value below int8": (
        _json(lambda n: {"model_id": pub(n), "input": [-129, *GOOD[1:]]}),
        422,
        "input[0]: Input should be greater than or equal to -128",
    ),
    "float in int8 input": (
        _json(lambda n: {"model_id": pub(n), "input": [0.5, *GOOD[1:]]}),
        422,
        "input[0]: Input should be a valid integer",
    ),
    "string in int8 input": (
        _json(lambda n: {"model_id": pub(n), "input": ["1", *GOOD[1:]]}),
        422,
        "input[0]: Input should be a valid integer",
    ),
    "bool in int8 input": (
        _json(lambda n: {"model_id": pub(n), "input": [True, *GOOD[1:]]}),
        422,
        "input[0]: Input should be a valid integer",
    ),
    "NaN float": (
        _json(
            lambda n: (
                b'{"model_id": "%s", "input_float": [NaN%s]}' % (dig(n).encode(), b", 0.5" * 63)
            )
        ),
        422,
        "input_float[0]: Input should be a finite number",
    ),
    "Infinity float": (
        _json(
            lambda n: (
                b'{"model_id": "%s", "input_float": [0.1, Infinity%s]}'
                % (dig(n).encode(), b", 0.5" * 62)
            )
        ),
        422,
        "input_float[1]: Input should be a finite number",
    ),
    "-Infinity float": (
        _json(
            lambda n: (
                b'{"model_id": "%s", "input_float": [-Infinity%s]}'
                % (dig(n).encode(), b", 0.5" * 63)
            )
        ),
        422,
        "input_float[0]: Input should be a finite number",
    ),
    "overflowing float": (
        _json(
            lambda n: (
                b'{"model_id": "%s", "input_float": [1e999%s]}' % (dig(n).encode(), b", 0.5" * 63)
            )
        ),
        422,
        "input_float[0]: Input should be a finite number",
    ),
    "float input for an int8-only model": (
        _json(lambda n: {"model_id": pub(n), "input_float": [0.5] * 36}),
        422,
        "has no input scale: send int8 values in `input`",
    ),
    "float input of the wrong length": (
        _json(lambda n: {"model_id": dig(n), "input_float": [0.5] * 63}),
        422,
        "`input_float` has 63 values",
    ),
    "both inputs": (
        _json(lambda n: {"model_id": dig(n), "input": [1] * 64, "input_float": [0.5] * 64}),
        422,
        "give exactly one of `input`",
    ),
    "no input": (_json(lambda n: {"model_id": dig(n)}), 422, "give exactly one of `input`"),
    "no model": (_json({"input": GOOD}), 422, "model_id: Field required"),
    "unknown field": (
        _json(lambda n: {"model_id": pub(n), "input": GOOD, "inputs": GOOD}),
        422,
        "inputs: Extra inputs are not permitted",
    ),
    "bad client address": (
        _json(lambda n: {"model_id": pub(n), "input": GOOD, "client": "0x1234"}),
        422,
        "client: String should match",
    ),
    "not an object": (_json([1, 2, 3]), 422, "body: Input should be an object"),
    "malformed JSON": (_json(b'{"model_id": "0x12", "input": [1, 2'), 400, "malformed JSON body"),
    "empty body": (_json(b""), 400, "malformed JSON body"),
    "not JSON at all": (_json(b"\xff\xfe garbage"), 400, "malformed JSON body"),
    "oversized body": (
        _json(lambda n: {"model_id": pub(n), "input": GOOD, "pad": "x" * MAX_BODY}),
        413,
        f"request body larger than {MAX_BODY} bytes",
    ),
}


def _typed(content_type: str | None) -> Case:
    def build(node: Node) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"model_id": pub(node), "input": GOOD}).encode()
        return body, ({"content-type": content_type} if content_type else {})

    return build


CASES["form content type"] = (
    _typed("application/x-www-form-urlencoded"), 415, "send Content-Type: application/json",
)  # fmt: skip
CASES["no content type"] = (_typed(None), 415, "the body must be JSON")


@pytest.fixture
def unchanged(node: Node, api: TestClient) -> Iterator[None]:
    """Asserts that the test stored nothing and used no request id."""
    before = node.store.row_counts()
    next_id = node.pipeline.next_request_id
    yield
    assert node.store.row_counts() == before
    assert node.pipeline.next_request_id == next_id
    assert node.store.count_unbatched() == 0


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_with_a_reason(
    name: str, node: Node, api: TestClient, unchanged: None
) -> None:
    build, status, reason = CASES[name]
    body, headers = build(node)
    answer = api.post("/v1/inferences", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and reason in detail, detail


def test_chunked_oversized_body_is_refused(node: Node, api: TestClient, unchanged: None) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model_id": "' + pub(node).encode() + b'", "input": ['
        for _ in range(MAX_BODY // 4):
            yield b"1, 1, 1, "
        yield b"1]}"

    answer = api.post(
        "/v1/inferences", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]


def test_chunked_body_within_the_limit_is_served(node: Node, api: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model_id": "' + pub(node).encode() + b'", '
        yield b'"input": ' + json.dumps(GOOD).encode() + b"}"

    answer = api.post(
        "/v1/inferences", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 201, answer.text


def test_bad_content_length_is_refused(node: Node, api: TestClient, unchanged: None) -> None:
    answer = api.post(
        "/v1/inferences",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": str(10 * MAX_BODY)},
    )
    assert answer.status_code == 413


def test_refusals_are_counted_in_the_metrics(node: Node, api: TestClient) -> None:
    api.post("/v1/inferences", content=b"{", headers={"content-type": "application/json"})
    text = api.get("/metrics").text
    assert 'handler="create_inference",method="POST",status="400"' in text
