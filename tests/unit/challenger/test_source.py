"""
:class:`HttpTraceSource` against a stub of the node API on loopback (stdlib ``http.server``): the
page size the node accepts, cursors, 404/410 as withheld, errors as unavailable, malformed bodies,
kept-alive connections, and the on-chain request trace path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from challenger.source import PAGE, HttpTraceSource, SourceUnavailableError

NODE = "0x" + "ab" * 20
H = "0x" + "cd" * 32

Route = Callable[[str, dict[str, list[str]]], tuple[int, Any]]


class Stub:
    """A node API stub: ``route(path, query) -> (status, body)``; counts connections."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.paths: list[str] = []
        self.connections = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                stub.connections += 1
                super().setup()

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                stub.paths.append(self.path)
                status, body = stub.route(url.path, parse_qs(url.query))
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Callable[[Route], Stub]]:
    made: list[Stub] = []

    def make(route: Route) -> Stub:
        s = Stub(route)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def receipts_route(count: int) -> Route:
    """``/v1/receipts?batch_id=1`` over ``count`` receipts, refusing a limit above 100 like the
    node (422)."""

    def route(path: str, q: dict[str, list[str]]) -> tuple[int, Any]:
        if path != "/v1/receipts":
            return 404, {"detail": "no"}
        limit = int(q["limit"][0])
        if limit > 100:
            return 422, {"detail": "limit must be <= 100"}
        after = int(q.get("cursor", ["0"])[0])
        ids = [i for i in range(1, count + 1) if i > after][:limit]
        data = [{"request_id": i, "receipt_leaf": "0x" + f"{i:064x}"} for i in ids]
        return 200, {
            "data": data,
            "count": count,
            "next_cursor": ids[-1] if len(ids) == limit else None,
        }

    return route


def test_batch_leaves_pages_within_the_nodes_limit(stub: Callable[[Route], Stub]) -> None:
    """Proves: a 250-receipt batch is listed in order in pages the node accepts (≤ 100)."""
    s = stub(receipts_route(250))
    leaves = HttpTraceSource([s.url]).batch_leaves(1)
    assert [leaf.request_id for leaf in leaves] == list(range(1, 251))
    assert leaves[7].leaf == (8).to_bytes(32, "big")
    assert PAGE <= 100 and len(s.paths) == 3
    assert s.connections == 1  # one kept-alive connection for every page


def test_withheld_unavailable_and_malformed(stub: Callable[[Route], Stub]) -> None:
    """
    Proves: 404 and 410 are "not served" (None), a 5xx or an unexpected 4xx is
    :class:`SourceUnavailableError`, and a body that is not the API's schema counts as not served.
    """
    answers: dict[str, tuple[int, Any]] = {
        "/v1/traces/1": (404, {"detail": "no receipt"}),
        "/v1/traces/2": (410, {"detail": "withheld"}),
        "/v1/traces/3": (500, {"detail": "boom"}),
        "/v1/traces/4": (200, {"vectors": [{"index": "first"}]}),
        "/v1/receipts/5": (200, {"request_id": 5}),
        "/v1/receipts/6": (400, {"detail": "bad"}),
        "/v1/traces/7": (200, b"not json"),
    }
    s = stub(lambda path, _q: answers.get(path, (404, {})))
    source = HttpTraceSource([s.url])
    assert source.trace(1) is None
    assert source.trace(2) is None
    with pytest.raises(SourceUnavailableError):
        source.trace(3)
    assert source.trace(4) is None
    assert source.receipt(5) is None
    with pytest.raises(SourceUnavailableError):
        source.receipt(6)
    with pytest.raises(SourceUnavailableError):
        source.trace(7)


def test_a_closed_node_is_unavailable_and_the_next_node_is_asked(
    stub: Callable[[Route], Stub],
) -> None:
    """Proves: nodes are asked in order until one answers; none answering is unavailable."""
    trace = {
        "request_id": 9,
        "model_id": H,
        "trace_root": H,
        "vectors": [
            {"index": 1, "hidden": True, "activation_hash": "0x" + "00" * 32, "values": None},
            {"index": 0, "hidden": False, "activation_hash": H, "values": [1, -2, 127]},
        ],
    }
    empty = stub(lambda _p, _q: (404, {}))
    full = stub(lambda p, _q: (200, trace) if p == "/v1/requests/9/trace" else (404, {}))
    served = HttpTraceSource([empty.url, full.url]).request_trace(9)
    assert served is not None
    assert served.hashes == (bytes.fromhex(H[2:]), bytes(32))
    assert served.vectors[1] is None
    assert served.vectors[0] is not None and served.vectors[0].tolist() == [1, -2, 127]
    assert full.paths == ["/v1/requests/9/trace"]
    dead = empty.url
    empty.close()
    with pytest.raises(SourceUnavailableError):
        HttpTraceSource([dead], timeout=2).trace(1)


def test_a_cursor_that_repeats_is_refused(stub: Callable[[Route], Stub]) -> None:
    """Proves: a node that pages in circles cannot keep the challenger listing forever."""
    page = {"data": [{"request_id": 1, "receipt_leaf": H}], "count": 1, "next_cursor": 0}
    s = stub(lambda _p, _q: (200, page))
    with pytest.raises(SourceUnavailableError, match="repeats"):
        HttpTraceSource([s.url]).batch_leaves(1)
