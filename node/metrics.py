"""
The node's Prometheus metrics (``GET /metrics``, text exposition format).

Introduction
------------
Two kinds: counters and histograms this process updates as it works (HTTP requests and latency,
inferences, micro-batch sizes, chain errors, chain head and event cursor), and figures read from the
database at scrape time (:class:`StoreCollector`: receipts and batches per status, gas used and
paid by batch commits, dispute events per kind, data challenges per status), which stay right
across restarts. Each node has its own :class:`prometheus_client.CollectorRegistry`, so several
apps in one process (tests) do not share series.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from .db import data_challenges, disputes
from .store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class StoreCollector(Collector):
    """Metrics read from the database when scraped."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        receipts = GaugeMetricFamily(
            "opzk_node_receipts", "Receipts stored, by status.", labels=["status"]
        )
        for status, count in sorted(self._store.status_counts().items()):
            receipts.add_metric([status], count)
        yield receipts
        totals = self._store.batch_totals()
        batches = GaugeMetricFamily(
            "opzk_node_batches", "Batches recorded, by status.", labels=["status"]
        )
        for key, value in sorted(totals.items()):
            if key.startswith("batches_"):
                batches.add_metric([key.removeprefix("batches_")], value)
        yield batches
        yield CounterMetricFamily(
            "opzk_node_batch_gas_used", "Gas used by this node's batch commits.",
            value=totals["gas_used"],
        )  # fmt: skip
        yield CounterMetricFamily(
            "opzk_node_batch_gas_cost_wei", "Wei paid for this node's batch commits.",
            value=totals["gas_cost_wei"],
        )  # fmt: skip
        dispute_family = CounterMetricFamily(
            "opzk_node_dispute_events", "Dispute events on this node's claims, by kind.",
            labels=["kind"],
        )  # fmt: skip
        challenge_family = GaugeMetricFamily(
            "opzk_node_data_challenges", "Data challenges against this node, by status.",
            labels=["status"],
        )  # fmt: skip
        engine = self._store._engine
        with engine.connect() as conn:
            for kind, count in conn.execute(
                select(disputes.c.kind, func.count()).group_by(disputes.c.kind)
            ).all():
                dispute_family.add_metric([str(kind)], int(count))
            for status, count in conn.execute(
                select(data_challenges.c.status, func.count()).group_by(data_challenges.c.status)
            ).all():
                challenge_family.add_metric([str(status)], int(count))
        yield dispute_family
        yield challenge_family


class NodeMetrics:
    """The process-side metrics of one node."""

    def __init__(self, store: Store | None = None) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "opzk_node_http_requests", "HTTP requests served.",
            ["method", "handler", "status"], registry=r,
        )  # fmt: skip
        self.http_latency = Histogram(
            "opzk_node_http_request_duration_seconds", "HTTP request latency.",
            ["handler"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.inferences = Counter(
            "opzk_node_inferences", "Inferences answered (receipts stored).", ["model"], registry=r
        )
        self.micro_batch = Histogram(
            "opzk_node_inference_micro_batch_size", "Requests run together by the runtime.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), registry=r,
        )  # fmt: skip
        self.batches_posted = Counter(
            "opzk_node_batches_posted", "Batch roots this process posted.", registry=r
        )
        self.batch_size = Histogram(
            "opzk_node_batch_receipts", "Receipts per posted batch.",
            buckets=(1, 4, 16, 64, 256, 1024, 4096, 16384, 65536), registry=r,
        )  # fmt: skip
        self.gas_used = Counter(
            "opzk_node_gas_used", "Gas used by transactions this process sent.", ["action"],
            registry=r,
        )  # fmt: skip
        self.chain_errors = Counter(
            "opzk_node_chain_errors", "Chain jobs that failed (retried later).", ["job"],
            registry=r,
        )  # fmt: skip
        self.disputes = Counter(
            "opzk_node_disputes_seen", "Dispute events on this node's claims seen by this process.",
            ["kind"], registry=r,
        )  # fmt: skip
        self.head_block = Gauge(
            "opzk_node_chain_head_block", "Latest chain block seen.", registry=r
        )
        self.cursor_block = Gauge(
            "opzk_node_event_cursor_block", "Last block whose events were applied.", registry=r
        )
        if store is not None:
            r.register(StoreCollector(store))

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
