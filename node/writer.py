"""
Group commit: receipts are durable before their responses leave, at a fraction of an fsync each.

Introduction
------------
One thread owns the writes of new receipts. Whatever has queued while the previous transaction was
being committed goes into the next one (up to ``max_group`` receipts), so under load one ``COMMIT``
(one WAL fsync with ``synchronous=FULL``) covers many requests, and an idle node commits a single
receipt at once, with no added delay. Each submitter is told when its receipts are committed (or
that the commit failed) through its ``done`` callback, called on the writer thread; only then does
the request path answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .records import NewReceipt
from .store import Store

log = logging.getLogger(__name__)

Done = Callable[[BaseException | None], None]


@dataclass(frozen=True)
class _Item:
    rows: Sequence[NewReceipt]
    done: Done


_STOP = object()


class ReceiptWriter:
    """The receipt-writing thread."""

    def __init__(
        self,
        store: Store,
        *,
        max_group: int = 4096,
        on_committed: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._max_group = max_group
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.on_committed = on_committed
        self.commits = 0
        """Transactions committed so far (for tests and the benchmark)."""

    def start(self) -> None:
        """Starts the thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="receipt-writer", daemon=True)
            self._thread.start()

    def submit(self, rows: Sequence[NewReceipt], done: Done) -> None:
        """Queues ``rows``; ``done(None)`` once committed, ``done(error)`` if the commit failed."""
        if self._thread is None:
            raise RuntimeError("the receipt writer is not running")
        self._queue.put(_Item(rows, done))

    def stop(self, timeout: float = 30.0) -> None:
        """Commits everything queued, then stops the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Item)
            group = [first]
            size = len(first.rows)
            while size < self._max_group:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                assert isinstance(more, _Item)
                group.append(more)
                size += len(more.rows)
            error: BaseException | None = None
            try:
                self._store.insert_receipts([row for item in group for row in item.rows])
                self.commits += 1
            except Exception as exc:  # every waiter must hear about it
                log.exception("committing %d receipts failed", size)
                error = exc
            for item in group:
                try:
                    item.done(error)
                except Exception:
                    log.exception("a receipt waiter's callback failed")
            if error is None and self.on_committed is not None:
                try:
                    self.on_committed(size)
                except Exception:
                    log.exception("on_committed failed")
