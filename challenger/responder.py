"""
Carries out the solver's actions as transactions (the "doing" side).

Introduction
------------
:class:`Responder` turns one :data:`~challenger.solver.Action` into one transaction through
:class:`~opzk.marketplace.Marketplace` and records the outcome in the state under the action's
key. It is idempotent: an action already recorded is not sent again, and a revert that says the
effect is already on-chain or can never happen (``ClaimAlreadySlashed``, ``ChallengeNotOpen``,
``ChallengeAlreadyOpen``, ``ChallengeWindowClosed``, ``NothingToWithdraw``, ``NoFraud``…) is
recorded as settled, not retried. ``ChainClient.send`` estimates gas first, so such a revert costs
nothing: a challenger that loses a race sends no transaction. Any other failure (RPC down, a
deadline a second too early) is transient and retried on the next round, at most
``max_attempts`` times.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from web3.logs import DISCARD
from web3.types import TxReceipt

from opzk.marketplace import Marketplace
from protocol import errors
from protocol.model import QuantizedModel
from prover.fraud import (
    CLAIM_SOURCE_BATCH,
    WrongElement,
    layer_fraud_args,
    receipt_tuple,
    trace_entry_proof,
)

from .solver import (
    Action,
    ChallengeData,
    ClaimCredits,
    DemandProof,
    Ignore,
    ProveEndpointFraud,
    ProveLayerFraud,
    ResolveDataTimeout,
    ResolveProofTimeout,
    Wait,
)
from .state import DATA, PROOF, ChallengerState, ClaimRow

log = logging.getLogger(__name__)

SETTLED_ERRORS: tuple[type[Exception], ...] = (
    errors.ClaimAlreadySlashed,
    errors.ChallengeNotOpen,
    errors.ChallengeAlreadyOpen,
    errors.DemandNotOpen,
    errors.DemandAlreadyOpen,
    errors.ChallengeWindowClosed,
    errors.NothingToWithdraw,
    errors.NoFraud,
    errors.InvalidClaim,
    errors.InvalidTraceProof,
    errors.InvalidWeightRow,
    errors.NotPublicLayer,
    errors.NotPublicTraceIndex,
    errors.NotSensitivePartition,
    errors.NotAnEndpoint,
    errors.UnknownBatch,
)
"""Reverts after which re-sending the same action can never succeed."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one action."""

    key: str
    status: str
    """``sent``, ``settled:<Error>``, ``retry:<Error>``, ``failed:<Error>`` or ``skipped``."""
    tx_hash: str | None = None


def claim_ref(claim: ClaimRow) -> tuple[object, ...]:
    """The ``ClaimRef`` tuple of a stored claim (receipt and proof must be known)."""
    if claim.receipt is None or claim.proof is None:
        raise ValueError("the claim's receipt and inclusion proof are not known")
    if claim.source != CLAIM_SOURCE_BATCH:
        return (claim.source, claim.container_id, [], receipt_tuple(claim.receipt))
    return (claim.source, claim.container_id, list(claim.proof), receipt_tuple(claim.receipt))


@dataclass
class Responder:
    """Sends actions for ``market``'s account, recording outcomes in ``state``."""

    market: Marketplace
    state: ChallengerState
    models: Mapping[bytes, QuantizedModel]
    max_attempts: int = 5
    _attempts: dict[str, int] = field(default_factory=dict)

    @property
    def me(self) -> str:
        """This challenger's address."""
        return self.market.address

    def execute(self, action: Action, claim: ClaimRow | None = None) -> Outcome:
        """
        Carries out ``action`` (``claim`` is required for claim actions).

        Must hold: an action whose key is already recorded is skipped; a settled revert is
        recorded and never retried; a transient failure is retried at most ``max_attempts`` times.
        """
        if isinstance(action, Ignore | Wait):
            return Outcome(action.key, "skipped")
        key = action.key
        if not isinstance(action, ClaimCredits) and key in self.state.done_keys():
            return Outcome(key, "skipped")
        try:
            tx = self._send(action, claim)
        except SETTLED_ERRORS as exc:
            name = type(exc).__name__
            if isinstance(exc, errors.ClaimAlreadySlashed) and claim is not None:
                self.state.mark_slashed(claim.claim_key, 0)
            if isinstance(action, ResolveDataTimeout):
                self.state.close_dispute(DATA, action.challenge_id)
            if isinstance(action, ResolveProofTimeout):
                self.state.close_dispute(PROOF, action.demand_id)
            if isinstance(exc, errors.NoFraud | errors.InvalidTraceProof | errors.InvalidWeightRow):
                log.error("challenger: %s reverted with %s (our evidence is wrong?)", key, exc)
            else:
                log.info("challenger: %s already settled on-chain (%s)", key, name)
            self.state.record_done(key, f"settled:{name}")
            self.state.bump(f"settled:{name}")
            return Outcome(key, f"settled:{name}")
        except Exception as exc:
            name = type(exc).__name__
            attempts = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempts
            if attempts >= self.max_attempts:
                log.error("challenger: %s failed %d times, giving up: %s", key, attempts, exc)
                self.state.record_done(key, f"failed:{name}")
                return Outcome(key, f"failed:{name}")
            log.warning("challenger: %s failed (%s), will retry", key, exc)
            return Outcome(key, f"retry:{name}")
        tx_hash = "0x" + bytes(tx["transactionHash"]).hex()
        if not isinstance(action, ClaimCredits):
            self.state.record_done(key, "sent", tx_hash)
        self.state.bump(f"sent:{type(action).__name__}")
        log.info("challenger: %s sent in %s", key, tx_hash)
        return Outcome(key, "sent", tx_hash)

    def _model(self, claim: ClaimRow) -> QuantizedModel:
        assert claim.receipt is not None
        return self.models[bytes(claim.receipt.model_id)]

    def _send(self, action: Action, claim: ClaimRow | None) -> TxReceipt:
        m = self.market
        if isinstance(action, ClaimCredits):
            return m.withdraw_stake_credits()
        if claim is None:
            raise ValueError(f"{type(action).__name__} needs its claim")
        ref = claim_ref(claim)
        if isinstance(action, ProveLayerFraud):
            assert claim.vectors is not None and claim.hashes is not None
            wrong = WrongElement(action.wrong.layer, action.wrong.row, action.wrong.wrong_length)
            args = layer_fraud_args(self._model(claim), claim.vectors, claim.hashes, wrong)
            tx = m.client.send(m.fraud.functions.proveLayerFraud(ref, args))
            self.state.mark_slashed(claim.claim_key, int(tx["blockNumber"]))
            return tx
        if isinstance(action, ProveEndpointFraud):
            assert claim.hashes is not None
            index = action.index
            tx = m.client.send(
                m.fraud.functions.proveEndpointFraud(
                    ref, index, claim.hashes[index], trace_entry_proof(claim.hashes, index)
                )
            )
            self.state.mark_slashed(claim.claim_key, int(tx["blockNumber"]))
            return tx
        if isinstance(action, ChallengeData):
            challenge_id, tx = m.challenge_data(ref, action.index)
            (event,) = m.data.events.DataChallenged().process_receipt(tx, errors=DISCARD)
            self.state.add_dispute(
                DATA,
                challenge_id,
                claim.claim_key,
                action.index,
                self.me,
                int(event["args"]["deadline"]),
            )
            return tx
        if isinstance(action, ResolveDataTimeout):
            tx = m.resolve_data_timeout(action.challenge_id)
            self.state.close_dispute(DATA, action.challenge_id)
            return tx
        if isinstance(action, DemandProof):
            bond = int(m.proofs.functions.bond().call())
            tx = m.client.send(m.proofs.functions.demandProof(ref, action.partition), value=bond)
            (event,) = m.proofs.events.ProofDemanded().process_receipt(tx, errors=DISCARD)
            args = event["args"]
            self.state.add_dispute(
                PROOF,
                int(args["demandId"]),
                claim.claim_key,
                action.partition,
                self.me,
                int(args["deadline"]),
            )
            return tx
        if isinstance(action, ResolveProofTimeout):
            tx = m.client.send(m.proofs.functions.resolveTimeout(action.demand_id))
            self.state.close_dispute(PROOF, action.demand_id)
            return tx
        raise TypeError(f"not an action that sends: {action!r}")
