"""
A deployed marketplace seen from Python: contract handles, and the actions of each role.

Introduction
------------
:class:`Marketplace` binds a :class:`~deploy.deployments.Deployment` to a :class:`ChainClient` and
offers the protocol's actions as plain methods (register a model, stake, commit a batch, request
and fulfil, prove a fraud, challenge data availability, finalize, withdraw), returning transaction
receipts. The demo and the gas benchmark drive it; node and challenger services build on it.
:class:`ComputedClaim` is one inference as a node commits it: the trace vectors, their hashes and
the receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from deploy.deployments import Deployment
from protocol.activations import act_hash, int8_bytes
from protocol.merkle import MerkleTree
from protocol.model import QuantizedModel, forward_trace
from protocol.receipts import Receipt, batch_tree
from protocol.trace import trace_activation_hashes, trace_root, trace_tree
from protocol.types import Hash32, RequestId, to_address
from prover.fraud import (
    WrongElement,
    batch_claim_ref,
    first_wrong_element,
    layer_fraud_args,
    request_claim_ref,
)

from .chain import ChainClient


@dataclass(frozen=True)
class ComputedClaim:
    """One inference as committed: ``vectors`` h_0..h_L (None where hidden), hashes, receipt."""

    vectors: tuple[npt.NDArray[np.int8] | None, ...]
    activation_hashes: tuple[Hash32, ...]
    receipt: Receipt

    @property
    def output(self) -> npt.NDArray[np.int8]:
        """The claimed output h_L."""
        out = self.vectors[-1]
        assert out is not None
        return out


def compute_claim(
    model: QuantizedModel,
    x: npt.NDArray[np.int8],
    *,
    request_id: int,
    node: str,
    client: str,
    tamper: tuple[int, int] | None = None,
) -> ComputedClaim:
    """
    Runs ``model`` on ``x`` and builds the claim. ``tamper=(layer, row)`` makes a cheating node's
    claim: output ``row`` of ``layer`` is changed and later layers are recomputed from the wrong
    value (so only that layer is inconsistent, as a careful cheater would make it).
    """
    vectors: list[npt.NDArray[np.int8] | None] = list(forward_trace(model, x))
    if tamper is not None:
        layer, row = tamper
        wrong = vectors[layer]
        assert wrong is not None
        wrong = wrong.copy()
        wrong[row] = np.int8(int(wrong[row]) + 1 if wrong[row] < 127 else 126)
        vectors[layer] = wrong
        for i in range(layer, len(model.layers)):
            previous = vectors[i]
            assert previous is not None
            vectors[i + 1] = model.layers[i].forward(previous)
    hidden = model.hidden_indices()
    shown = [None if i in hidden else v for i, v in enumerate(vectors)]
    hashes = trace_activation_hashes(shown, hidden)
    out = shown[-1]
    assert out is not None
    receipt = Receipt(
        request_id=RequestId(request_id),
        model_id=model.model_id(),
        input_hash=act_hash(x),
        output_hash=act_hash(out),
        trace_root=trace_root(hashes),
        node=to_address(node),
        client=to_address(client),
    )
    return ComputedClaim(tuple(shown), tuple(hashes), receipt)


@dataclass(frozen=True)
class CommittedBatch:
    """A batch as its node committed it."""

    batch_id: int
    claims: tuple[ComputedClaim, ...]
    tree: MerkleTree

    def claim_ref(self, index: int) -> tuple[object, ...]:
        """``ClaimRef`` of claim ``index``."""
        return batch_claim_ref(self.batch_id, self.tree, index, self.claims[index].receipt)


class Marketplace:
    """The deployment's contracts, acting as the account of ``client``."""

    def __init__(self, deployment: Deployment, client: ChainClient) -> None:
        self.deployment = deployment
        self.client = client
        self.stakes = self._contract("StakeManager")
        self.registry = self._contract("ModelRegistry")
        self.market = self._contract("InferenceMarket")
        self.fraud = self._contract("FraudProofGame")
        self.data = self._contract("DataAvailabilityGame")
        self.proofs = self._contract("ProofDemandGame")
        self.verifier = self._contract("SumKzgVerifier")
        """The verifier of one-layer sensitive partitions and the registry of weight commitments."""
        self.stack_verifier = self._contract("SumKzgStackVerifier")
        """The verifier of two-layer sensitive partitions (built on :attr:`verifier`)."""

    def _contract(self, name: str) -> Contract:
        return self.client.contract(self.deployment.address(name), self.deployment.abis[name])

    def as_account(self, client: ChainClient) -> Marketplace:
        """The same marketplace acting as another account."""
        return Marketplace(self.deployment, client)

    @property
    def address(self) -> str:
        """This actor's address."""
        return self.client.address

    # ---- registry --------------------------------------------------------------------------------

    def register_model(
        self, model: QuantizedModel, verifiers: Sequence[str] | None = None
    ) -> TxReceipt:
        """Registers ``model`` (verifiers default to zero for every partition)."""
        zero = "0x" + "00" * 20
        return self.client.send(
            self.registry.functions.registerModel(
                [h.as_abi_tuple() for h in model.headers()],
                model.weight_roots(),
                [p.as_abi_tuple() for p in model.partitions],
                list(verifiers) if verifiers is not None else [zero] * len(model.partitions),
            )
        )

    # ---- stake -----------------------------------------------------------------------------------

    def stake(self, amount: int) -> TxReceipt:
        """Adds ``amount`` wei to this account's stake."""
        return self.client.send(self.stakes.functions.stake(), value=amount)

    def stake_of(self, node: str) -> tuple[int, int, int]:
        """(active, pending, unlockAt) of ``node``."""
        active, pending, unlock = self.stakes.functions.stakeOf(node).call()
        return int(active), int(pending), int(unlock)

    def stake_credits(self, account: str) -> int:
        """Credits of ``account`` in StakeManager."""
        return int(self.stakes.functions.credits(account).call())

    # ---- batches ---------------------------------------------------------------------------------

    def commit_batch(self, claims: Sequence[ComputedClaim]) -> tuple[CommittedBatch, TxReceipt]:
        """Commits the claims' receipts as one batch."""
        tree = batch_tree([c.receipt for c in claims])
        tx = self.client.send(self.market.functions.commitBatch(tree.root, len(claims)))
        (event,) = self.market.events.BatchCommitted().process_receipt(tx, errors=DISCARD)
        batch = CommittedBatch(int(event["args"]["batchId"]), tuple(claims), tree)
        return batch, tx

    def finalize_batch(self, batch_id: int) -> TxReceipt:
        """Finalizes a batch after its window."""
        return self.client.send(self.market.functions.finalizeBatch(batch_id))

    # ---- on-chain requests -----------------------------------------------------------------------

    def serve(self, model_id: bytes) -> TxReceipt:
        """Makes this node eligible for ``model_id``'s on-chain requests."""
        return self.client.send(self.market.functions.serveModel(model_id))

    def request_inference(self, model_id: bytes, x: npt.NDArray[np.int8], fee: int) -> int:
        """Requests an inference; returns the request id."""
        tx = self.client.send(
            self.market.functions.requestInference(model_id, int8_bytes(x)), value=fee
        )
        (event,) = self.market.events.InferenceRequested().process_receipt(tx, errors=DISCARD)
        return int(event["args"]["requestId"])

    def fulfil(self, claims: Sequence[ComputedClaim]) -> TxReceipt:
        """Fulfils on-chain requests (the claims' request ids) in one transaction."""
        return self.client.send(
            self.market.functions.fulfil(
                [c.receipt.request_id for c in claims],
                [int8_bytes(c.output) for c in claims],
                [c.receipt.trace_root for c in claims],
            )
        )

    def finalize_requests(self, request_ids: Sequence[int]) -> TxReceipt:
        """Finalizes fulfilled requests after their windows."""
        return self.client.send(self.market.functions.finalizeRequests(list(request_ids)))

    # ---- disputes --------------------------------------------------------------------------------

    def prove_fraud(
        self, model: QuantizedModel, claim: ComputedClaim, claim_ref: tuple[object, ...]
    ) -> tuple[WrongElement, TxReceipt]:
        """Finds the first wrong public element of ``claim`` and proves it on-chain."""
        wrong = first_wrong_element(model, claim.vectors)
        if wrong is None:
            raise ValueError("the claim is consistent with the model: nothing to prove")
        args = layer_fraud_args(model, claim.vectors, claim.activation_hashes, wrong)
        return wrong, self.client.send(self.fraud.functions.proveLayerFraud(claim_ref, args))

    def challenge_data(self, claim_ref: tuple[object, ...], index: int) -> tuple[int, TxReceipt]:
        """Opens a data-availability challenge for trace entry ``index``; returns its id."""
        bond = int(self.data.functions.bond().call())
        tx = self.client.send(self.data.functions.challenge(claim_ref, index), value=bond)
        (event,) = self.data.events.DataChallenged().process_receipt(tx, errors=DISCARD)
        return int(event["args"]["challengeId"]), tx

    def publish_data(self, challenge_id: int, claim: ComputedClaim, index: int) -> TxReceipt:
        """Publishes trace entry ``index`` of ``claim`` for a data challenge."""
        vector = claim.vectors[index]
        if vector is None:
            raise ValueError(f"trace entry {index} is hidden")
        proof = trace_tree(claim.activation_hashes).proof(index)
        return self.client.send(
            self.data.functions.publish(challenge_id, int8_bytes(vector), proof)
        )

    def resolve_data_timeout(self, challenge_id: int) -> TxReceipt:
        """Slashes the node of a data challenge whose deadline passed unanswered."""
        return self.client.send(self.data.functions.resolveTimeout(challenge_id))

    # ---- credits ---------------------------------------------------------------------------------

    def withdraw_stake_credits(self) -> TxReceipt:
        """Withdraws this account's StakeManager credits."""
        return self.client.send(self.stakes.functions.withdrawCredits())

    def withdraw_market_credits(self) -> TxReceipt:
        """Withdraws this account's InferenceMarket credits (fees, refunds)."""
        return self.client.send(self.market.functions.withdrawCredits())


def request_claim(claim: ComputedClaim) -> tuple[object, ...]:
    """``ClaimRef`` of a fulfilled on-chain request."""
    return request_claim_ref(claim.receipt)


def with_request_id(claim: ComputedClaim, request_id: int) -> ComputedClaim:
    """The same claim under another request id."""
    return replace(claim, receipt=replace(claim.receipt, request_id=RequestId(request_id)))


def gas_used(tx: TxReceipt) -> int:
    """Gas used by a mined transaction."""
    return int(tx["gasUsed"])


def event_args(contract: Contract, event: str, tx: TxReceipt) -> list[dict[str, Any]]:
    """Decoded arguments of every ``event`` of ``contract`` in ``tx``."""
    return [
        dict(e["args"])
        for e in getattr(contract.events, event)().process_receipt(tx, errors=DISCARD)
    ]
