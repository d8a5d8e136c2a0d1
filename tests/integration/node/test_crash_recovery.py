"""
Crash safety of batch posting, in process: a crash between broadcasting ``commitBatch`` and storing
its result must neither lose the batch nor post it twice; a crash after recording the intent but
before broadcasting must post it exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from node.batcher import Batcher
from node.chainio import CommitResult, NodeChain, SignedTx
from node.records import BatchStatus
from node.service import NodeService
from tests.integration.node.conftest import NodeEnv


class CrashError(Exception):
    """Stands for the process dying at this point."""


class CrashAfterBroadcast:
    """The real chain, but the node "dies" right after the transaction is sent."""

    def __init__(self, chain: NodeChain) -> None:
        self._chain = chain
        self.lock = chain.lock

    def __getattr__(self, name: str) -> object:
        return getattr(self._chain, name)

    def wait_commit(self, tx_hash: bytes, root: bytes) -> CommitResult:
        raise CrashError


class CrashBeforeBroadcast(CrashAfterBroadcast):
    """The node "dies" after recording the intent, before anything is sent."""

    def broadcast(self, tx: SignedTx) -> None:
        raise CrashError


def _receipts(api: TestClient, model_id: str, count: int) -> list[int]:
    rng = np.random.default_rng(3)
    ids = []
    for _ in range(count):
        answer = api.post(
            "/v1/inferences",
            json={"model_id": model_id, "input": rng.integers(-128, 128, 64).tolist()},
        )
        assert answer.status_code == 201
        ids.append(answer.json()["request_id"])
    return ids


@pytest.mark.parametrize("crash", [CrashAfterBroadcast, CrashBeforeBroadcast])
def test_batch_interrupted_by_a_crash_is_posted_exactly_once(
    node_env: NodeEnv,
    start_node: Callable[..., tuple[NodeService, TestClient]],
    crash: type[CrashAfterBroadcast],
) -> None:
    chain = node_env.chain
    service, api = start_node(batch_interval=3600)  # the batcher only runs at start (nothing yet)
    ids = _receipts(api, node_env.model_id, 4)
    assert chain.call(chain.market.functions.batchCount()) == 0

    dying = Batcher(service.store, crash(service.chain), max_batch_size=64)  # type: ignore[arg-type]
    with pytest.raises(CrashError):
        dying.run_once()
    (intent,) = service.store.batches_with_status(BatchStatus.SENDING)
    assert intent.count == 4 and intent.tx_hash is not None
    expected_onchain = 1 if crash is CrashAfterBroadcast else 0
    assert chain.call(chain.market.functions.batchCount()) == expected_onchain

    # The restarted node finishes the batch before anything else.
    recovered = Batcher(service.store, service.chain, max_batch_size=64).run_once()
    assert [b.status for b in recovered] == [BatchStatus.COMMITTED]
    assert chain.call(chain.market.functions.batchCount()) == 1  # never posted twice
    onchain = chain.call(chain.market.functions.batch(1))
    assert bytes(onchain[0]) == intent.root and onchain[2] == 4
    for request_id in ids:
        receipt = api.get(f"/v1/receipts/{request_id}").json()
        assert receipt["status"] == "committed"
        assert receipt["batch"]["batch_id"] == 1
