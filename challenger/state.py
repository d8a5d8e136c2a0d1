"""
The challenger's persisted state (SQLite, stdlib ``sqlite3``).

Introduction
------------
Everything the challenger must not forget across a restart lives here: the event cursor (last
block fully processed), the batches seen, the on-chain requests seen with their fulfilments, the
claims listed from both (with the receipt, the inclusion proof, the sampling verdicts and what
re-execution found), the disputes seen on-chain, which claims are slashed, and the actions already
carried out. Every write is an upsert keyed by an on-chain identity (batch id, request id, claim
key, dispute id, action key), so processing the same events twice leaves the same rows: the
watcher is idempotent because the state is. A challenger killed mid-dispute and started again on
the same file sees its open disputes and finishes them. Failed fetches from a node are retried no
sooner than the ``next_try`` time (wall clock) the service stored with the failure.

One connection per :class:`ChallengerState`; apscheduler runs our jobs on one thread (see
``service``), and ``check_same_thread=False`` only lets that thread differ from the creator's.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from protocol.receipts import Receipt
from protocol.types import Hash32, ModelId, RequestId, to_address

from .solver import DisputeView, TraceStatus, WrongAt

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY, node TEXT NOT NULL, root BLOB NOT NULL, count INTEGER NOT NULL,
    committed_at INTEGER NOT NULL, block INTEGER NOT NULL,
    listed INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS claims (
    claim_key BLOB PRIMARY KEY, source INTEGER NOT NULL, container_id INTEGER NOT NULL,
    leaf_index INTEGER NOT NULL, request_id INTEGER NOT NULL, leaf BLOB NOT NULL,
    node TEXT NOT NULL, window_end INTEGER NOT NULL,
    sampled INTEGER NOT NULL, zk_sampled INTEGER NOT NULL,
    receipt TEXT, proof TEXT,
    trace_status TEXT NOT NULL DEFAULT 'pending', hashes TEXT, vectors TEXT,
    missing TEXT NOT NULL DEFAULT '[]', endpoint_fraud INTEGER, wrong TEXT,
    fetch_attempts INTEGER NOT NULL DEFAULT 0, settled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS claims_active ON claims (settled, sampled, zk_sampled);
CREATE TABLE IF NOT EXISTS slashed (claim_key BLOB PRIMARY KEY, block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS disputes (
    kind TEXT NOT NULL, dispute_id INTEGER NOT NULL, claim_key BLOB NOT NULL,
    target INTEGER NOT NULL, challenger TEXT NOT NULL, deadline INTEGER NOT NULL,
    open INTEGER NOT NULL, PRIMARY KEY (kind, dispute_id)
);
CREATE INDEX IF NOT EXISTS disputes_claim ON disputes (claim_key);
CREATE TABLE IF NOT EXISTS published (
    claim_key BLOB NOT NULL, idx INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (claim_key, idx)
);
CREATE TABLE IF NOT EXISTS done (
    action_key TEXT PRIMARY KEY, outcome TEXT NOT NULL, tx_hash TEXT, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    request_id INTEGER PRIMARY KEY, model_id BLOB, node TEXT, client TEXT, input BLOB,
    requested_block INTEGER, output_hash BLOB, trace_root BLOB, output BLOB,
    fulfilled_at INTEGER, fulfil_block INTEGER, listed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_unlisted ON requests (listed, fulfilled_at);
"""

ADDED_COLUMNS = (
    ("batches", "next_try", "REAL NOT NULL DEFAULT 0"),
    ("claims", "next_try", "REAL NOT NULL DEFAULT 0"),
)
"""Columns added after the first release: a state file written before them gains them on open."""

DATA = "data"
PROOF = "proof"


@dataclass(frozen=True)
class BatchRow:
    """A committed batch as seen in ``BatchCommitted``."""

    batch_id: int
    node: str
    root: bytes
    count: int
    committed_at: int
    block: int
    listed: bool
    attempts: int


@dataclass(frozen=True)
class RequestRow:
    """
    An on-chain request as seen in ``InferenceRequested`` and ``RequestFulfilled``.

    The request's fields (``model_id`` … ``input``) are ``None`` when its ``InferenceRequested``
    was not seen (a challenger started after it); the fulfilment's fields are ``None`` until
    ``RequestFulfilled``.
    """

    request_id: int
    model_id: bytes | None
    node: str | None
    client: str | None
    input: bytes | None
    output_hash: bytes | None
    trace_root: bytes | None
    output: bytes | None
    fulfilled_at: int | None
    fulfil_block: int | None
    listed: bool


@dataclass(frozen=True)
class ClaimRow:
    """
    One claim listed from a batch or from an on-chain request's fulfilment (``source``), with
    what the challenger learnt about it. A request claim's ``receipt`` is known from the start
    (built from the chain's events) and its ``proof`` is empty.
    """

    claim_key: bytes
    source: int
    container_id: int
    leaf_index: int
    request_id: int
    leaf: bytes
    node: str
    window_end: int
    sampled: bool
    zk_sampled: bool
    receipt: Receipt | None
    proof: tuple[Hash32, ...] | None
    trace_status: TraceStatus
    hashes: tuple[Hash32, ...] | None
    vectors: tuple[npt.NDArray[np.int8] | None, ...] | None
    missing: tuple[int, ...]
    endpoint_fraud: int | None
    wrong: WrongAt | None
    fetch_attempts: int
    settled: bool


def receipt_to_json(r: Receipt) -> str:
    """A receipt as a JSON string (hex for bytes)."""
    return json.dumps(
        {
            "request_id": r.request_id,
            "model_id": r.model_id.hex(),
            "input_hash": r.input_hash.hex(),
            "output_hash": r.output_hash.hex(),
            "trace_root": r.trace_root.hex(),
            "node": r.node,
            "client": r.client,
        }
    )


def receipt_from_json(text: str) -> Receipt:
    """Inverse of :func:`receipt_to_json`."""
    d = json.loads(text)
    return Receipt(
        request_id=RequestId(int(d["request_id"])),
        model_id=ModelId(Hash32(bytes.fromhex(d["model_id"]))),
        input_hash=Hash32(bytes.fromhex(d["input_hash"])),
        output_hash=Hash32(bytes.fromhex(d["output_hash"])),
        trace_root=Hash32(bytes.fromhex(d["trace_root"])),
        node=to_address(d["node"]),
        client=to_address(d["client"]),
    )


def _vectors_json(vectors: Sequence[npt.NDArray[np.int8] | None]) -> str:
    return json.dumps([None if v is None else bytes(v.astype(np.int8)).hex() for v in vectors])


def _vectors_from(text: str) -> tuple[npt.NDArray[np.int8] | None, ...]:
    return tuple(
        None if v is None else np.frombuffer(bytes.fromhex(v), dtype=np.int8).copy()
        for v in json.loads(text)
    )


def _hashes_json(hashes: Sequence[bytes]) -> str:
    return json.dumps([bytes(h).hex() for h in hashes])


def _hashes_from(text: str) -> tuple[Hash32, ...]:
    return tuple(Hash32(bytes.fromhex(h)) for h in json.loads(text))


class ChallengerState:
    """The SQLite state file; ``":memory:"`` for tests that need no restart."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: every commit survives a crash of the process (kill -9); only a power loss
        # may lose the last ones, which the watcher re-reads (cursor) and the responder re-decides
        # (an action already on-chain reverts at estimation, sending nothing).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        for table, column, decl in ADDED_COLUMNS:
            present = {str(r[1]) for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        self._lock = threading.RLock()

    def close(self) -> None:
        """Closes the connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write (nested calls join the outer one)."""
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- cursor ----------------------------------------------------------------------------------

    def cursor(self) -> int | None:
        """The last block whose events are fully processed, or None before the first run."""
        row = self._db.execute("SELECT value FROM meta WHERE key='cursor'").fetchone()
        return None if row is None else int(row[0])

    def set_cursor(self, block: int) -> None:
        """Moves the cursor (never backwards)."""
        with self.transaction() as db:
            current = self.cursor()
            if current is None or block > current:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (str(block),))

    def bump(self, name: str, by: int = 1) -> None:
        """Adds ``by`` to counter ``name``."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO counters VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, by),
            )

    def counters(self) -> dict[str, int]:
        """Every counter."""
        return {k: int(v) for k, v in self._db.execute("SELECT name, value FROM counters")}

    # ---- batches ---------------------------------------------------------------------------------

    def add_batch(
        self, batch_id: int, node: str, root: bytes, count: int, committed_at: int, block: int
    ) -> None:
        """Records a ``BatchCommitted`` event (a repeat is ignored)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO batches (batch_id, node, root, count, committed_at, block) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (batch_id, node, root, count, committed_at, block),
            )

    def unlisted_batches(
        self,
        max_attempts: int | None = None,
        *,
        now: float | None = None,
        committed_after: int | None = None,
    ) -> list[BatchRow]:
        """
        Batches whose claims were not listed yet.

        Parameters
        ----------
        max_attempts :
            Only batches tried fewer times than this (None: no limit).
        now :
            Wall-clock time; only batches whose retry time (see :meth:`batch_listing_failed`)
            has come (None: every batch).
        committed_after :
            Only batches committed after this chain time (None: every batch).
        """
        query = (
            "SELECT batch_id, node, root, count, committed_at, block, listed, attempts "
            "FROM batches WHERE listed = 0"
        )
        args: list[Any] = []
        if max_attempts is not None:
            query += " AND attempts < ?"
            args.append(max_attempts)
        if now is not None:
            query += " AND next_try <= ?"
            args.append(now)
        if committed_after is not None:
            query += " AND committed_at > ?"
            args.append(committed_after)
        rows = self._db.execute(query + " ORDER BY batch_id", args).fetchall()
        return [
            BatchRow(int(a), str(b), bytes(c), int(d), int(e), int(f), bool(g), int(h))
            for a, b, c, d, e, f, g, h in rows
        ]

    def batch_listing_failed(self, batch_id: int, error: str, retry_at: float = 0.0) -> None:
        """One more failed try to list a batch's claims; the next one not before ``retry_at``."""
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET attempts = attempts + 1, last_error = ?, next_try = ? "
                "WHERE batch_id = ?",
                (error, retry_at, batch_id),
            )

    def add_claims(self, batch_id: int, claims: Sequence[ClaimRow]) -> None:
        """Records a batch's claims and marks it listed (atomically; repeats are ignored)."""
        with self.transaction() as db:
            self._insert_claims(claims)
            db.execute("UPDATE batches SET listed = 1 WHERE batch_id = ?", (batch_id,))

    # ---- on-chain requests -----------------------------------------------------------------------

    def add_request(
        self,
        request_id: int,
        model_id: bytes,
        node: str,
        client: str,
        input_vector: bytes,
        block: int,
    ) -> None:
        """Records an ``InferenceRequested`` event (a repeat changes nothing)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO requests (request_id) VALUES (?)", (request_id,))
            db.execute(
                "UPDATE requests SET model_id = ?, node = ?, client = ?, input = ?, "
                "requested_block = ? WHERE request_id = ? AND model_id IS NULL",
                (model_id, node, client, input_vector, block, request_id),
            )

    def add_fulfilment(
        self,
        request_id: int,
        node: str,
        output_hash: bytes,
        trace_root: bytes,
        output: bytes,
        fulfilled_at: int,
        block: int,
    ) -> None:
        """Records a ``RequestFulfilled`` event (a repeat changes nothing)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO requests (request_id) VALUES (?)", (request_id,))
            db.execute(
                "UPDATE requests SET node = COALESCE(node, ?), output_hash = ?, trace_root = ?, "
                "output = ?, fulfilled_at = ?, fulfil_block = ? "
                "WHERE request_id = ? AND fulfilled_at IS NULL",
                (node, output_hash, trace_root, output, fulfilled_at, block, request_id),
            )

    _REQUEST_COLUMNS = (
        "request_id, model_id, node, client, input, output_hash, trace_root, output, "
        "fulfilled_at, fulfil_block, listed"
    )

    @staticmethod
    def _request(row: Any) -> RequestRow:
        def opt(value: Any) -> bytes | None:
            return None if value is None else bytes(value)

        rid, model, node, client, inp, out_hash, root, out, at, block, listed = row
        return RequestRow(
            request_id=int(rid),
            model_id=opt(model),
            node=None if node is None else str(node),
            client=None if client is None else str(client),
            input=opt(inp),
            output_hash=opt(out_hash),
            trace_root=opt(root),
            output=opt(out),
            fulfilled_at=None if at is None else int(at),
            fulfil_block=None if block is None else int(block),
            listed=bool(listed),
        )

    def request(self, request_id: int) -> RequestRow | None:
        """One on-chain request by id."""
        row = self._db.execute(
            f"SELECT {self._REQUEST_COLUMNS} FROM requests WHERE request_id = ?", (request_id,)
        ).fetchone()
        return None if row is None else self._request(row)

    def unlisted_requests(self) -> list[RequestRow]:
        """Fulfilled on-chain requests whose claim was not listed yet, oldest first."""
        rows = self._db.execute(
            f"SELECT {self._REQUEST_COLUMNS} FROM requests "
            "WHERE listed = 0 AND fulfilled_at IS NOT NULL ORDER BY request_id"
        ).fetchall()
        return [self._request(r) for r in rows]

    def add_request_claims(self, request_ids: Sequence[int], claims: Sequence[ClaimRow]) -> None:
        """Records the claims of fulfilled requests and marks them listed (atomically)."""
        with self.transaction() as db:
            self._insert_claims(claims)
            db.executemany(
                "UPDATE requests SET listed = 1 WHERE request_id = ?",
                [(int(i),) for i in request_ids],
            )

    def _insert_claims(self, claims: Sequence[ClaimRow]) -> None:
        with self.transaction() as db:
            for c in claims:
                db.execute(
                    "INSERT OR IGNORE INTO claims (claim_key, source, container_id, leaf_index, "
                    "request_id, leaf, node, window_end, sampled, zk_sampled, receipt, proof, "
                    "settled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        c.claim_key,
                        c.source,
                        c.container_id,
                        c.leaf_index,
                        c.request_id,
                        c.leaf,
                        c.node,
                        c.window_end,
                        int(c.sampled),
                        int(c.zk_sampled),
                        None if c.receipt is None else receipt_to_json(c.receipt),
                        None if c.proof is None else _hashes_json(c.proof),
                        int(c.settled),
                    ),
                )

    # ---- claims ----------------------------------------------------------------------------------

    _CLAIM_COLUMNS = (
        "claim_key, source, container_id, leaf_index, request_id, leaf, node, window_end, "
        "sampled, zk_sampled, receipt, proof, trace_status, hashes, vectors, missing, "
        "endpoint_fraud, wrong, fetch_attempts, settled"
    )

    def _claim(self, row: Any) -> ClaimRow:
        (
            key,
            source,
            container,
            leaf_index,
            request_id,
            leaf,
            node,
            window_end,
            sampled,
            zk,
            receipt,
            proof,
            status,
            hashes,
            vectors,
            missing,
            endpoint,
            wrong,
            attempts,
            settled,
        ) = row
        wrong_at = None
        if wrong is not None:
            w = json.loads(str(wrong))
            wrong_at = WrongAt(int(w[0]), int(w[1]), bool(w[2]))
        return ClaimRow(
            claim_key=bytes(key),
            source=int(source),
            container_id=int(container),
            leaf_index=int(leaf_index),
            request_id=int(request_id),
            leaf=bytes(leaf),
            node=str(node),
            window_end=int(window_end),
            sampled=bool(sampled),
            zk_sampled=bool(zk),
            receipt=None if receipt is None else receipt_from_json(str(receipt)),
            proof=None if proof is None else _hashes_from(str(proof)),
            trace_status=TraceStatus(str(status)),
            hashes=None if hashes is None else _hashes_from(str(hashes)),
            vectors=None if vectors is None else _vectors_from(str(vectors)),
            missing=tuple(int(i) for i in json.loads(str(missing))),
            endpoint_fraud=None if endpoint is None else int(endpoint),
            wrong=wrong_at,
            fetch_attempts=int(attempts),
            settled=bool(settled),
        )

    def claim(self, claim_key: bytes) -> ClaimRow | None:
        """One claim by key."""
        row = self._db.execute(
            f"SELECT {self._CLAIM_COLUMNS} FROM claims WHERE claim_key = ?", (claim_key,)
        ).fetchone()
        return None if row is None else self._claim(row)

    def active_claims(self) -> list[ClaimRow]:
        """Claims not settled yet (sampled, or with a dispute of ours pending)."""
        rows = self._db.execute(
            f"SELECT {self._CLAIM_COLUMNS} FROM claims WHERE settled = 0 "
            "ORDER BY source, container_id, leaf_index"
        ).fetchall()
        return [self._claim(r) for r in rows]

    def claims_to_fetch(
        self, max_attempts: int, now: float | None = None, limit: int | None = None
    ) -> list[ClaimRow]:
        """
        Sampled, unsettled claims whose trace is still pending, tried fewer than
        ``max_attempts`` times and (given the wall-clock ``now``) whose retry time has come;
        at most ``limit`` of them, oldest first.
        """
        query = (
            f"SELECT {self._CLAIM_COLUMNS} FROM claims WHERE settled = 0 AND "
            "(sampled = 1 OR zk_sampled = 1) AND trace_status = 'pending' AND fetch_attempts < ?"
        )
        args: list[Any] = [max_attempts]
        if now is not None:
            query += " AND next_try <= ?"
            args.append(now)
        query += " ORDER BY source, container_id, leaf_index"
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        rows = self._db.execute(query, args).fetchall()
        return [self._claim(r) for r in rows]

    def all_claims(self) -> list[ClaimRow]:
        """Every claim (tests, reports)."""
        rows = self._db.execute(f"SELECT {self._CLAIM_COLUMNS} FROM claims").fetchall()
        return [self._claim(r) for r in rows]

    def set_claim_details(self, claim_key: bytes, receipt: Receipt, proof: Sequence[bytes]) -> None:
        """Stores the full receipt and the inclusion proof of a claim."""
        with self.transaction() as db:
            db.execute(
                "UPDATE claims SET receipt = ?, proof = ? WHERE claim_key = ?",
                (receipt_to_json(receipt), _hashes_json(proof), claim_key),
            )

    def fetch_failed(self, claim_key: bytes, retry_at: float = 0.0) -> None:
        """One more failed try to fetch a claim's trace; the next one not before ``retry_at``."""
        with self.transaction() as db:
            db.execute(
                "UPDATE claims SET fetch_attempts = fetch_attempts + 1, next_try = ? "
                "WHERE claim_key = ?",
                (retry_at, claim_key),
            )

    def set_trace(
        self,
        claim_key: bytes,
        hashes: Sequence[bytes],
        vectors: Sequence[npt.NDArray[np.int8] | None],
        missing: Sequence[int],
        endpoint_fraud: int | None,
        wrong: WrongAt | None,
    ) -> None:
        """Stores a checked trace and what re-execution found."""
        with self.transaction() as db:
            db.execute(
                "UPDATE claims SET trace_status = 'fetched', hashes = ?, vectors = ?, missing = ?, "
                "endpoint_fraud = ?, wrong = ? WHERE claim_key = ?",
                (
                    _hashes_json(hashes),
                    _vectors_json(vectors),
                    json.dumps(list(missing)),
                    endpoint_fraud,
                    None
                    if wrong is None
                    else json.dumps([wrong.layer, wrong.row, wrong.wrong_length]),
                    claim_key,
                ),
            )

    def settle(self, claim_key: bytes) -> None:
        """Nothing more will ever be done about this claim."""
        with self.transaction() as db:
            db.execute("UPDATE claims SET settled = 1 WHERE claim_key = ?", (claim_key,))

    # ---- slashes, disputes, publications ---------------------------------------------------------

    def mark_slashed(self, claim_key: bytes, block: int) -> None:
        """Records ``ClaimSlashed``."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO slashed VALUES (?, ?)", (claim_key, block))

    def is_slashed(self, claim_key: bytes) -> bool:
        """Whether the claim was marked fraudulent on-chain."""
        row = self._db.execute("SELECT 1 FROM slashed WHERE claim_key = ?", (claim_key,))
        return row.fetchone() is not None

    def slashed_count(self) -> int:
        """How many claims are known slashed."""
        return int(self._db.execute("SELECT COUNT(*) FROM slashed").fetchone()[0])

    def add_dispute(
        self,
        kind: str,
        dispute_id: int,
        claim_key: bytes,
        target: int,
        challenger: str,
        deadline: int,
    ) -> None:
        """Records an opened data challenge or proof demand (a repeat is ignored)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO disputes VALUES (?, ?, ?, ?, ?, ?, 1)",
                (kind, dispute_id, claim_key, target, challenger.lower(), deadline),
            )

    def close_dispute(self, kind: str, dispute_id: int) -> None:
        """Records that a dispute was answered or resolved."""
        with self.transaction() as db:
            db.execute(
                "UPDATE disputes SET open = 0 WHERE kind = ? AND dispute_id = ?", (kind, dispute_id)
            )

    def disputes_of(self, claim_key: bytes, kind: str, me: str) -> tuple[DisputeView, ...]:
        """The disputes of ``kind`` on a claim, ``mine`` relative to address ``me``."""
        rows = self._db.execute(
            "SELECT dispute_id, target, deadline, challenger, open FROM disputes "
            "WHERE claim_key = ? AND kind = ? ORDER BY dispute_id",
            (claim_key, kind),
        ).fetchall()
        return tuple(
            DisputeView(int(i), int(t), int(d), str(c) == me.lower(), bool(o))
            for i, t, d, c, o in rows
        )

    def open_disputes(self, me: str) -> int:
        """How many disputes of ``me`` are open."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM disputes WHERE open = 1 AND challenger = ?", (me.lower(),)
        ).fetchone()
        return int(row[0])

    def add_published(self, claim_key: bytes, index: int, vector: bytes) -> None:
        """Records a vector published in answer to a data challenge."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO published VALUES (?, ?, ?)", (claim_key, index, vector)
            )

    def published_of(self, claim_key: bytes) -> dict[int, bytes]:
        """Vectors published on-chain for this claim, by trace index."""
        rows = self._db.execute(
            "SELECT idx, vector FROM published WHERE claim_key = ?", (claim_key,)
        ).fetchall()
        return {int(i): bytes(v) for i, v in rows}

    # ---- actions ---------------------------------------------------------------------------------

    def record_done(self, action_key: str, outcome: str, tx_hash: str | None = None) -> None:
        """Records that an action is carried out (or settled); a repeat keeps the first record."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO done VALUES (?, ?, ?, ?)",
                (action_key, outcome, tx_hash, time.time()),
            )

    def done_keys(self, prefix_claim: bytes | None = None) -> frozenset[str]:
        """Action keys done (all, or those naming ``prefix_claim``)."""
        if prefix_claim is None:
            rows = self._db.execute("SELECT action_key FROM done").fetchall()
        else:
            like = f"%{prefix_claim.hex()}%"
            rows = self._db.execute(
                "SELECT action_key FROM done WHERE action_key LIKE ? OR action_key LIKE 'resolve%'",
                (like,),
            ).fetchall()
        return frozenset(str(r[0]) for r in rows)

    def outcomes(self) -> dict[str, str]:
        """Every action key with its outcome."""
        return {str(k): str(v) for k, v in self._db.execute("SELECT action_key, outcome FROM done")}
