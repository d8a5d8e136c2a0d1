"""
Proof demands through the challenger's jobs with no chain (the fakes of ``test_requests``): when a
claim drawn at ``p_zk`` is demanded, when it waits, and what a restart on the same state file
decides about a demand already on-chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from challenger.sampling import Sampler
from challenger.service import Challenger
from challenger.solver import (
    DemandProof,
    Ignore,
    Observation,
    ResolveProofTimeout,
    SolverParams,
    Wait,
    decide,
)
from challenger.state import ChallengerState
from opzk.marketplace import ComputedClaim, compute_claim
from protocol.model import QuantizedModel
from protocol.receipts import CLAIM_SOURCE_BATCH, batch_tree, claim_key
from tests import factories
from tests.factories import SENSITIVE_PARTITION_INDEX
from tests.unit.challenger.test_requests import (
    CLIENT,
    FULFILLED_AT,
    ME,
    NODE,
    SECRET,
    Clock,
    Events,
    Flaky,
    fake_market,
    run,
)

NOW = FULFILLED_AT + 10
PROOFS = SolverParams(proofs_enabled=True)
OTHER = "0x" + "44" * 20


def zk_only(
    model: QuantizedModel,
    source: Flaky,
    state: ChallengerState | None = None,
    events: Events | None = None,
) -> tuple[Challenger, Events, Clock]:
    """A challenger that re-executes nothing (p = 0) and demands every proof (p_zk = 1)."""
    events, clock = events or Events(), Clock()
    ch = Challenger(
        market=fake_market(NOW),
        state=state or ChallengerState(":memory:"),
        source=source,
        events=events,
        models={bytes(model.model_id()): model},
        sampler=Sampler(SECRET, 0.0, 1.0),
        solver_params=PROOFS,
        device="cpu",
        fetch_attempts=3,
        clock=clock,
    )
    return ch, events, clock


def commit(model: QuantizedModel, events: Events, source: Flaky) -> tuple[bytes, ComputedClaim]:
    """One honest claim committed in batch 1 and served by ``source``; its claim key."""
    claim = compute_claim(
        model,
        factories.random_input(factories.rng_for(1), model.layers[0].in_dim),
        request_id=1,
        node=NODE,
        client=CLIENT,
    )
    tree = batch_tree([claim.receipt])
    events.add(
        "BatchCommitted",
        {"batchId": 1, "node": NODE, "root": bytes(tree.root), "count": 1},
        timestamp=FULFILLED_AT,
    )
    source.add_batch(1, [claim.receipt], tree.levels[0], [(claim.activation_hashes, claim.vectors)])
    return bytes(claim_key(CLAIM_SOURCE_BATCH, 1, tree.levels[0][0])), claim


def observed(ch: Challenger, key: bytes) -> Observation:
    row = ch.state.claim(key)
    assert row is not None
    return ch.observe(row)


def demanded(events: Events, key: bytes, demand_id: int, challenger: str, deadline: int) -> None:
    events.add(
        "ProofDemanded",
        {
            "demandId": demand_id,
            "claimKey": key,
            "node": NODE,
            "challenger": challenger,
            "partitionIndex": SENSITIVE_PARTITION_INDEX,
            "deadline": deadline,
            "jobId": b"\x00" * 32,
        },
    )


def test_a_demand_waits_for_the_receipt_then_names_each_sensitive_partition(
    sensitive_model: QuantizedModel,
) -> None:
    """
    Proves: a batch claim drawn at ``p_zk`` whose receipt the node has not served yet is neither
    settled nor demanded (``Wait``: a demand must name the receipt); once the receipt is fetched
    the challenger demands a proof of the model's sensitive partition.
    """
    source = Flaky()
    ch, events, clock = zk_only(sensitive_model, source)
    key, _ = commit(sensitive_model, events, source)
    source.up = True
    ch.watch()
    ch.list_batches()
    served = dict(source.receipts)
    source.receipts.clear()  # listed, but the receipt is not served yet
    ch.reexecute()
    obs = observed(ch, key)
    assert obs.zk_sampled and not obs.claim_known and obs.sensitive_partitions == ()
    assert isinstance(decide(obs, NOW, PROOFS), Wait)
    assert ch.act() == []
    assert [c.claim_key for c in ch.state.active_claims()] == [key]  # not settled

    source.receipts.update(served)
    clock.t += 10
    ch.reexecute()
    obs = observed(ch, key)
    assert obs.claim_known and obs.sensitive_partitions == (SENSITIVE_PARTITION_INDEX,)
    assert decide(obs, NOW, PROOFS) == DemandProof(key, SENSITIVE_PARTITION_INDEX)
    assert decide(obs, NOW, SolverParams()) == Ignore(key)  # proofs disabled


def test_a_model_without_sensitive_partitions_is_never_demanded(
    public_model: QuantizedModel,
) -> None:
    """Proves: drawn at ``p_zk`` but of an all-public model, the claim is ignored and settled."""
    source = Flaky()
    source.up = True
    ch, events, _ = zk_only(public_model, source)
    key, _ = commit(public_model, events, source)
    run(ch)
    obs = observed(ch, key)
    assert not obs.zk_sampled and obs.claim_known
    assert decide(obs, NOW, PROOFS) == Ignore(key)
    ch.act()
    assert ch.state.active_claims() == []


@pytest.mark.parametrize(
    ("open_", "expected"), [(True, Wait), (False, Ignore)], ids=["open", "accepted"]
)
def test_another_challengers_demand_is_not_repeated(
    sensitive_model: QuantizedModel, open_: bool, expected: type
) -> None:
    """
    Proves: a partition someone else already demanded is not demanded again: the challenger waits
    while that demand is open and lets the claim go once it is answered.
    """
    source = Flaky()
    source.up = True
    ch, events, _ = zk_only(sensitive_model, source)
    key, _ = commit(sensitive_model, events, source)
    demanded(events, key, 5, OTHER, NOW + 100)
    if not open_:
        events.add("ProofAccepted", {"demandId": 5, "claimKey": key})
    run(ch)
    assert isinstance(decide(observed(ch, key), NOW, PROOFS), expected)


def test_a_restarted_challenger_finishes_its_demand_and_never_repeats_it(
    sensitive_model: QuantizedModel, tmp_path: Path
) -> None:
    """
    Proves: a challenger that crashed after its ``demandProof`` was mined but before it recorded
    it learns the demand from the ``ProofDemanded`` event on restart: it does not demand again,
    waits until the deadline, then resolves the timeout; after ``ProofDemandTimedOut`` (or an
    answer) the claim is let go.
    """
    path = tmp_path / "state.sqlite"
    source = Flaky()
    source.up = True
    ch, events, _ = zk_only(sensitive_model, source, ChallengerState(path))
    key, _ = commit(sensitive_model, events, source)
    run(ch)
    assert decide(observed(ch, key), NOW, PROOFS) == DemandProof(key, SENSITIVE_PARTITION_INDEX)
    ch.state.close()  # the demand is mined, the process dies before recording it

    restarted, _, _ = zk_only(sensitive_model, source, ChallengerState(path), events)
    demanded(events, key, 9, ME, NOW + 20)
    run(restarted)
    obs = observed(restarted, key)
    assert [(d.dispute_id, d.mine, d.open) for d in obs.proof_demands] == [(9, True, True)]
    assert isinstance(decide(obs, NOW, PROOFS), Wait)
    assert decide(obs, NOW + 21, PROOFS) == ResolveProofTimeout(key, 9)
    events.add("ProofDemandTimedOut", {"demandId": 9, "claimKey": key, "slashed": 1})
    restarted.watch()
    assert decide(observed(restarted, key), NOW + 21, PROOFS) == Ignore(key)
    restarted.state.close()
