"""
The request path: micro-batched inference, receipts, group-committed writes.

Introduction
------------
``POST /v1/inferences`` hands a validated int8 input to :meth:`InferencePipeline.infer` and awaits
the stored receipt. Requests that arrive together (in the same turn of the event loop) are run as
one batch by the runtime (:meth:`node.runtime.ModelRuntime.run`), given consecutive request ids,
turned into receipts (:func:`node.claims.build_receipts`) and queued for the
:class:`~node.writer.ReceiptWriter`; each waiting request resumes only after the transaction holding
its receipt has committed. Nothing in this path touches the chain.

A node in cheat mode (tests and the demo only, :mod:`node.cheats`) builds its receipts through
its :class:`~node.cheats.CheatPlan`, which lies on the requests it draws and records them.

Request ids are unique per node and increase: the next id follows the highest one in the database.
An id handed out to a receipt that never committed (a crash, a failed write) is simply never used
again in this run, and no response carried it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .claims import build_receipts
from .metrics import NodeMetrics
from .records import NewReceipt
from .runtime import ModelRuntime
from .writer import ReceiptWriter


@dataclass
class _Job:
    model_id: bytes
    x: npt.NDArray[np.int8]
    client: str
    future: asyncio.Future[NewReceipt] = field(repr=False)


class InferencePipeline:
    """Micro-batches inferences and awaits their durable receipts."""

    def __init__(
        self,
        runtime: ModelRuntime,
        writer: ReceiptWriter,
        *,
        node_address: str,
        first_request_id: int,
        max_batch: int = 256,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.runtime = runtime
        self._writer = writer
        self._node = node_address
        self._next_id = first_request_id
        self._max_batch = max_batch
        self._metrics = metrics
        self._queue: list[_Job] = []
        self._scheduled = False

    @property
    def next_request_id(self) -> int:
        """The id the next inference will get."""
        return self._next_id

    async def infer(self, model_id: bytes, x: npt.NDArray[np.int8], client: str) -> NewReceipt:
        """Runs one inference; returns its receipt once it is committed to the database."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[NewReceipt] = loop.create_future()
        self._queue.append(_Job(model_id, x, client, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush, loop)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        jobs, self._queue = self._queue, []
        by_model: dict[bytes, list[_Job]] = {}
        for job in jobs:
            by_model.setdefault(job.model_id, []).append(job)
        for model_id, model_jobs in by_model.items():
            for start in range(0, len(model_jobs), self._max_batch):
                self._run_chunk(loop, model_id, model_jobs[start : start + self._max_batch])

    def _run_chunk(
        self, loop: asyncio.AbstractEventLoop, model_id: bytes, jobs: list[_Job]
    ) -> None:
        try:
            served = self.runtime.get(model_id)
            trace = self.runtime.run(model_id, np.stack([j.x for j in jobs]))
            first = self._next_id
            self._next_id += len(jobs)
            cheats = self.runtime.cheats
            make = cheats.build_receipts if cheats is not None else build_receipts
            rows = make(
                served,
                trace,
                range(first, first + len(jobs)),
                node=self._node,
                clients=[j.client for j in jobs],
                created_at=time.time(),
            )
        except Exception as exc:
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        if self._metrics is not None:
            self._metrics.micro_batch.observe(len(jobs))

        def done(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(self._resolve, jobs, rows, error)

        try:
            self._writer.submit(rows, done)
        except Exception as exc:
            self._resolve(jobs, rows, exc)

    def _resolve(
        self, jobs: list[_Job], rows: list[NewReceipt], error: BaseException | None
    ) -> None:
        for job, row in zip(jobs, rows, strict=True):
            if job.future.done():
                continue  # the client went away; the receipt is stored all the same
            if error is None:
                job.future.set_result(row)
            else:
                job.future.set_exception(error)
        if error is None and self._metrics is not None and rows:
            self._metrics.inferences.labels("0x" + rows[0].model_id.hex()).inc(len(rows))
