"""
What to do about one claim, decided from what was observed (pure: no I/O, no clock, no chain).

Introduction
------------
The watcher and the re-execution job fill an :class:`Observation` per claim (is it sampled, was the
trace fetched, which committed vectors are missing, the first wrong element found by
re-execution, the disputes open on it, …). :func:`decide` maps it, with the chain's ``now`` and the
:class:`SolverParams`, to exactly one :data:`Action`; the responder carries it out and the next
round observes the effect. Rules, in priority order:

1. An open dispute of ours whose deadline has passed is resolved first (it returns our bond and,
   if the claim was not slashed yet, slashes it) — even after the claim was slashed by someone
   else and after the challenge window closed.
2. A claim already slashed, not sampled, or whose window has closed gets no new dispute: ``Wait``
   while one of our disputes is still open, else ``Ignore``.
3. A sampled claim whose trace is not yet fetched: ``Wait``.
4. Fraud proofs first (one transaction, no bond): endpoint fraud, then the first wrong layer.
5. A committed public vector the node did not serve: a data-availability challenge, one index at a
   time, unless a challenge of that index is already open (by anyone): ``Wait``.
6. Proof demands for sensitive partitions, only when proofs are enabled and the claim was drawn at
   ``p_zk``: one per sensitive partition nobody has demanded yet, once the claim is known well
   enough to name it on-chain (its receipt and inclusion proof; ``Wait`` until then); then ``Wait``
   while a demand is open. The answer is the node's (``ProofAccepted`` pays it the bond,
   ``ProofRejected`` slashes it); a demand left unanswered past its deadline is resolved by rule 1.
7. Otherwise the claim is consistent: ``Ignore``.

An action whose :attr:`key` is in ``observation.done`` (carried out, or settled on-chain by someone
else) is never returned again, so a decision loop always terminates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TraceStatus(enum.Enum):
    """What the challenger holds of a claim's trace."""

    PENDING = "pending"
    """Not fetched yet (or the fetch is being retried)."""
    FETCHED = "fetched"
    """Fetched and checked against the trace root; ``missing`` lists what the node withheld."""


@dataclass(frozen=True, slots=True)
class DisputeView:
    """A data challenge or proof demand on the claim, as the watcher last saw it."""

    dispute_id: int
    target: int
    """Trace index (data challenge) or partition index (proof demand)."""
    deadline: int
    mine: bool
    open: bool


@dataclass(frozen=True, slots=True)
class WrongAt:
    """Re-execution found layer ``layer``'s output wrong at ``row`` (or of a wrong length)."""

    layer: int
    row: int
    wrong_length: bool = False


@dataclass(frozen=True, slots=True)
class Observation:
    """
    Everything known about one claim.

    ``missing`` lists the public trace indices whose committed vector the challenger does not hold
    (not served by the node, or served but not matching its committed hash, and not published in a
    data challenge since). ``wrong`` and ``endpoint_fraud`` are only meaningful once ``trace`` is
    ``FETCHED``. ``claim_known`` says whether the claim's receipt (and, for a batch claim, its
    inclusion proof) is known, so that a dispute can name it: a batch claim's receipt comes from
    the node, and until it does a proof demand waits (``sensitive_partitions`` is empty then,
    since the model is not known either).
    """

    claim_key: bytes
    window_end: int
    sampled: bool
    zk_sampled: bool = False
    slashed: bool = False
    trace: TraceStatus = TraceStatus.PENDING
    missing: tuple[int, ...] = ()
    endpoint_fraud: int | None = None
    wrong: WrongAt | None = None
    sensitive_partitions: tuple[int, ...] = ()
    claim_known: bool = True
    data_challenges: tuple[DisputeView, ...] = ()
    proof_demands: tuple[DisputeView, ...] = ()
    done: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class SolverParams:
    """
    Tuning of :func:`decide`.

    ``window_margin`` (seconds): no new dispute is started when fewer than this remain in the
    challenge window (it could not be mined in time). ``proofs_enabled``: whether claims drawn at
    ``p_zk`` are demanded proofs of their sensitive partitions.
    """

    window_margin: int = 0
    proofs_enabled: bool = False


@dataclass(frozen=True, slots=True)
class Ignore:
    """Nothing to do now or later (honest, unsampled, slashed by others, or too late)."""

    claim_key: bytes

    @property
    def key(self) -> str:
        return f"ignore:{self.claim_key.hex()}"


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do now; look again later (a fetch or a dispute deadline is pending)."""

    claim_key: bytes
    reason: str

    @property
    def key(self) -> str:
        return f"wait:{self.claim_key.hex()}"


@dataclass(frozen=True, slots=True)
class ProveLayerFraud:
    """Send ``FraudProofGame.proveLayerFraud`` for ``wrong``."""

    claim_key: bytes
    wrong: WrongAt

    @property
    def key(self) -> str:
        return f"layer:{self.claim_key.hex()}"


@dataclass(frozen=True, slots=True)
class ProveEndpointFraud:
    """Send ``FraudProofGame.proveEndpointFraud`` for trace entry ``index`` (0 or L)."""

    claim_key: bytes
    index: int

    @property
    def key(self) -> str:
        return f"endpoint:{self.claim_key.hex()}"


@dataclass(frozen=True, slots=True)
class ChallengeData:
    """Open a data-availability challenge for trace entry ``index`` (posts the data bond)."""

    claim_key: bytes
    index: int

    @property
    def key(self) -> str:
        return f"challenge:{self.claim_key.hex()}:{self.index}"


@dataclass(frozen=True, slots=True)
class ResolveDataTimeout:
    """Resolve our data challenge ``challenge_id`` after its deadline."""

    claim_key: bytes
    challenge_id: int

    @property
    def key(self) -> str:
        return f"resolve:{self.challenge_id}"


@dataclass(frozen=True, slots=True)
class DemandProof:
    """Demand a zk proof of sensitive partition ``partition`` (posts the proof bond)."""

    claim_key: bytes
    partition: int

    @property
    def key(self) -> str:
        return f"demand:{self.claim_key.hex()}:{self.partition}"


@dataclass(frozen=True, slots=True)
class ResolveProofTimeout:
    """Resolve our proof demand ``demand_id`` after its deadline."""

    claim_key: bytes
    demand_id: int

    @property
    def key(self) -> str:
        return f"resolve-demand:{self.demand_id}"


@dataclass(frozen=True, slots=True)
class ClaimCredits:
    """Withdraw our StakeManager credits (rewards, returned bonds)."""

    amount: int

    @property
    def key(self) -> str:
        return "credits"


Action = (
    Ignore
    | Wait
    | ProveLayerFraud
    | ProveEndpointFraud
    | ChallengeData
    | ResolveDataTimeout
    | DemandProof
    | ResolveProofTimeout
    | ClaimCredits
)
"""One decision."""

CLAIM_ACTIONS = (
    ProveLayerFraud,
    ProveEndpointFraud,
    ChallengeData,
    ResolveDataTimeout,
    DemandProof,
    ResolveProofTimeout,
)
"""The actions that send a transaction about one claim."""


def decide(obs: Observation, now: int, params: SolverParams) -> Action:
    """
    The one action to take for ``obs`` at chain time ``now`` (see the module's rules).

    Must hold: the result is never an action whose ``key`` is in ``obs.done``; no new dispute is
    returned once ``now >= window_end - window_margin`` or once the claim is slashed; a claim that
    is neither sampled nor disputed by us is ``Ignore``-d.
    """
    key = obs.claim_key
    done = obs.done

    # 1. our own disputes past their deadline
    for ch in obs.data_challenges:
        if ch.mine and ch.open and now > ch.deadline:
            action: Action = ResolveDataTimeout(key, ch.dispute_id)
            if action.key not in done:
                return action
    for d in obs.proof_demands:
        if d.mine and d.open and now > d.deadline:
            action = ResolveProofTimeout(key, d.dispute_id)
            if action.key not in done:
                return action
    ours_open = any(c.mine and c.open for c in (*obs.data_challenges, *obs.proof_demands))

    def idle(reason: str) -> Action:
        return Wait(key, f"{reason}; our dispute is open") if ours_open else Ignore(key)

    # 2. no new dispute
    if obs.slashed:
        return idle("claim already slashed")
    if not obs.sampled and not obs.zk_sampled:
        return idle("not sampled")
    if now >= obs.window_end - params.window_margin:
        return idle("challenge window closed")

    if obs.sampled:
        # 3. trace
        if obs.trace is TraceStatus.PENDING:
            return Wait(key, "trace not fetched yet")
        # 4. fraud proofs
        if obs.endpoint_fraud is not None:
            action = ProveEndpointFraud(key, obs.endpoint_fraud)
            if action.key not in done:
                return action
        if obs.wrong is not None:
            action = ProveLayerFraud(key, obs.wrong)
            if action.key not in done:
                return action
        # 5. withheld vectors
        waiting = False
        for index in obs.missing:
            if any(c.open and c.target == index for c in obs.data_challenges):
                waiting = True
                continue
            action = ChallengeData(key, index)
            if action.key not in done:
                return action
        if waiting:
            return Wait(key, "waiting for the node to publish a challenged vector")

    # 6. proof demands
    if obs.zk_sampled and params.proofs_enabled:
        if not obs.claim_known:
            return Wait(key, "receipt not fetched yet (needed to name the claim in a demand)")
        for partition in obs.sensitive_partitions:
            if any(d.target == partition for d in obs.proof_demands):
                continue
            action = DemandProof(key, partition)
            if action.key not in done:
                return action
        if any(d.open for d in obs.proof_demands):
            return Wait(key, "waiting for a demanded proof")

    # 7. consistent (or everything we could do is done)
    return idle("nothing left to check")


def decide_credits(credits: int, threshold: int) -> ClaimCredits | Ignore:
    """
    Withdraw credits once they reach ``threshold`` wei (and are non-zero).

    Must hold: never returns :class:`ClaimCredits` for zero credits.
    """
    if credits > 0 and credits >= threshold:
        return ClaimCredits(credits)
    return Ignore(b"")
