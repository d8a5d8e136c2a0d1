"""
An adversarial challenger: disputes honest claims on purpose, straight through web3, with the
evidence an attacker would use (what the node serves, or forged vectors).

It builds claim references from the node's API (``GET /v1/receipts/{id}`` for batch claims, the
chain's request for on-chain ones) and sends each dispute with :class:`opzk.chain.ChainClient`:
by default the call is estimated first (a revert then sends nothing), and with ``forced=True`` it
is mined with a fixed gas limit so the revert happens on-chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from web3.contract.contract import ContractFunction

from opzk.chain import ChainClient
from protocol.activations import act_hash, int8_bytes
from protocol.model import QuantizedModel, forward_trace
from protocol.receipts import CLAIM_SOURCE_BATCH, Receipt
from protocol.trace import trace_tree
from protocol.types import Hash32, ModelId, RequestId, to_address
from prover.fraud import WrongElement, layer_fraud_args, receipt_tuple, request_claim_ref
from tests.integration.chain_env import ChainEnv
from tests.integration.e2e.conftest import RunningNode

FORCED_GAS = 3_000_000
"""Gas limit of a dispute mined on purpose although it reverts."""


def _b(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


@dataclass
class ServedClaim:
    """An honest claim as the node serves it: its reference, receipt, trace and claim key."""

    ref: tuple[object, ...]
    receipt: Receipt
    vectors: list[npt.NDArray[np.int8] | None]
    hashes: list[Hash32]
    key: bytes


class Adversary:
    """Sends bogus disputes for ``who`` against claims served by ``node``."""

    def __init__(self, chain: ChainEnv, who: ChainClient, model: QuantizedModel) -> None:
        self.chain = chain
        self.who = who
        self.model = model

    @property
    def address(self) -> str:
        return self.who.address

    # ---- claims ----------------------------------------------------------------------------------

    def batch_claim(self, node: RunningNode, request_id: int) -> ServedClaim:
        """A committed batch receipt with the trace the node serves for it."""
        r = node.get(f"/receipts/{request_id}")
        receipt = Receipt(
            request_id=RequestId(int(r["request_id"])),
            model_id=ModelId(Hash32(_b(r["model_id"]))),
            input_hash=Hash32(_b(r["input_hash"])),
            output_hash=Hash32(_b(r["output_hash"])),
            trace_root=Hash32(_b(r["trace_root"])),
            node=to_address(r["node"]),
            client=to_address(r["client"]),
        )
        batch = r["batch"]
        ref = (
            CLAIM_SOURCE_BATCH,
            int(batch["batch_id"]),
            [_b(p) for p in batch["proof"]],
            receipt_tuple(receipt),
        )
        vectors, hashes = self._trace(node.get(f"/traces/{request_id}"))
        return ServedClaim(ref, receipt, vectors, hashes, _b(r["claim_key"]))

    def request_claim(self, request_id: int) -> ServedClaim:
        """
        A fulfilled on-chain request, its trace recomputed from the on-chain input (the node
        serves no trace of it).
        """
        c = self.chain
        view = c.call(c.market.functions.request(request_id))
        (event,) = [
            e
            for e in c.market.events.RequestFulfilled().get_logs(
                from_block=c.session.base_block, argument_filters={"requestId": request_id}
            )
        ]
        (asked,) = [
            e
            for e in c.market.events.InferenceRequested().get_logs(
                from_block=c.session.base_block, argument_filters={"requestId": request_id}
            )
        ]
        args = event["args"]
        receipt = Receipt(
            request_id=RequestId(request_id),
            model_id=ModelId(Hash32(bytes(view[6]))),
            input_hash=Hash32(bytes(view[7])),
            output_hash=Hash32(bytes(args["outputHash"])),
            trace_root=Hash32(bytes(args["traceRoot"])),
            node=to_address(view[2]),
            client=to_address(view[0]),
        )
        x = np.frombuffer(bytes(asked["args"]["input"]), dtype=np.int8)
        vectors: list[npt.NDArray[np.int8] | None] = list(forward_trace(self.model, x))
        hashes = [act_hash(v) for v in vectors if v is not None]
        key = bytes(c.call(c.market.functions.authenticate(request_claim_ref(receipt)))[0])
        return ServedClaim(request_claim_ref(receipt), receipt, vectors, hashes, key)

    @staticmethod
    def _trace(body: dict[str, Any]) -> tuple[list[npt.NDArray[np.int8] | None], list[Hash32]]:
        entries = sorted(body["vectors"], key=lambda e: int(e["index"]))
        vectors: list[npt.NDArray[np.int8] | None] = [
            None if e["values"] is None else np.asarray(e["values"], dtype=np.int8) for e in entries
        ]
        return vectors, [Hash32(_b(e["activation_hash"])) for e in entries]

    # ---- bogus disputes --------------------------------------------------------------------------

    def send(self, fn: ContractFunction, *, value: int = 0, forced: bool = False) -> Any:
        """Sends ``fn``; ``forced`` mines it even though it reverts (fixed gas, no estimate)."""
        return self.who.send(fn, value=value, gas=FORCED_GAS if forced else None)

    def layer_fraud(self, claim: ServedClaim, layer: int, row: int) -> ContractFunction:
        """``proveLayerFraud`` with the claim's true vectors: a correct row proves nothing."""
        args = layer_fraud_args(self.model, claim.vectors, claim.hashes, WrongElement(layer, row))
        return self.chain.fraud.functions.proveLayerFraud(claim.ref, args)

    def forged_layer_fraud(self, claim: ServedClaim, layer: int, row: int) -> ContractFunction:
        """``proveLayerFraud`` with a forged output vector under the true one's trace proof."""
        args = list(
            layer_fraud_args(self.model, claim.vectors, claim.hashes, WrongElement(layer, row))
        )
        y = claim.vectors[layer]
        assert y is not None
        forged = y.copy()
        forged[row] = np.int8(int(forged[row]) ^ 1)
        args[3] = int8_bytes(forged)
        return self.chain.fraud.functions.proveLayerFraud(claim.ref, tuple(args))

    def endpoint_fraud(self, claim: ServedClaim, index: int) -> ContractFunction:
        """``proveEndpointFraud`` with the committed (correct) entry."""
        proof = trace_tree(claim.hashes).proof(index)
        return self.chain.fraud.functions.proveEndpointFraud(
            claim.ref, index, claim.hashes[index], proof
        )

    def challenge_data(self, claim: ServedClaim, index: int) -> tuple[int, int, int]:
        """A bonded data challenge; returns (challenge id, deadline, wei paid for gas)."""
        tx = self.who.send(
            self.chain.da.functions.challenge(claim.ref, index), value=self.chain.params.data_bond
        )
        (event,) = self.chain.events(self.chain.da, "DataChallenged", tx)
        return int(event["challengeId"]), int(event["deadline"]), self.chain.gas_cost(tx)

    def demand_proof(self, claim: ServedClaim, partition: int) -> tuple[int, int, int]:
        """A bonded proof demand; returns (demand id, deadline, wei paid for gas)."""
        tx = self.who.send(
            self.chain.pdg.functions.demandProof(claim.ref, partition),
            value=self.chain.params.proof_bond,
        )
        (event,) = self.chain.events(self.chain.pdg, "ProofDemanded", tx)
        return int(event["demandId"]), int(event["deadline"]), self.chain.gas_cost(tx)
