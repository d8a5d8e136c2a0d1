"""
The node's background jobs (APScheduler): the batcher, and the chain job (watcher, responder,
finalizer).

Introduction
------------
Every job runs on one worker thread, one at a time, so the node's transactions never race for a
nonce and the watcher never reads a half-recorded batch. A tick that finds its job still running
is skipped (coalesced), which APScheduler would log as a warning at every such tick; its scheduler
logger is therefore kept at ``ERROR``. A job that fails (the chain is down, a
transaction reverted) is logged, counted in ``opzk_node_chain_errors_total`` and simply runs again
at its next tick. :meth:`NodeScheduler.kick` runs a job now (the batcher when N receipts are
pending) unless it is already running or queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from .metrics import NodeMetrics

log = logging.getLogger(__name__)


class NodeScheduler:
    """Interval jobs on one worker thread."""

    def __init__(self, metrics: NodeMetrics | None = None) -> None:
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._metrics = metrics
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)

    def add(self, name: str, fn: Callable[[], object], seconds: float) -> None:
        """Runs ``fn`` every ``seconds``, first right after start."""
        self._scheduler.add_job(
            self._guard(name, fn),
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            next_run_time=datetime.now(UTC),
        )

    def _guard(self, name: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            with self._lock:
                self._busy.add(name)
            try:
                fn()
            except Exception as exc:
                log.warning("job %s failed (will retry): %s: %s", name, type(exc).__name__, exc)
                log.debug("job %s traceback", name, exc_info=True)
                if self._metrics is not None:
                    self._metrics.chain_errors.labels(name).inc()
            finally:
                with self._lock:
                    self._busy.discard(name)

        return run

    def kick(self, name: str) -> None:
        """Runs job ``name`` as soon as the worker is free (unless it already waits or runs)."""
        with self._lock:
            if name in self._busy or not self._scheduler.running:
                return
            self._busy.add(name)
        try:
            self._scheduler.modify_job(name, next_run_time=datetime.now(UTC))
        except Exception:
            with self._lock:
                self._busy.discard(name)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stops the jobs, waiting for the one running to finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
