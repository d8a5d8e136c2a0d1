"""Table-driven decisions: every branch of ``decide`` and ``decide_credits``, no chain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from challenger.solver import (
    Action,
    ChallengeData,
    ClaimCredits,
    DemandProof,
    DisputeView,
    Ignore,
    Observation,
    ProveEndpointFraud,
    ProveLayerFraud,
    ResolveDataTimeout,
    ResolveProofTimeout,
    SolverParams,
    TraceStatus,
    Wait,
    WrongAt,
    decide,
    decide_credits,
)

K = b"\x01" * 32
NOW = 1_000
END = 1_100
FETCHED = TraceStatus.FETCHED
BASE = Observation(claim_key=K, window_end=END, sampled=True, trace=FETCHED)
WRONG = WrongAt(2, 3)
MINE_OPEN = DisputeView(7, 2, NOW + 10, mine=True, open=True)
MINE_DUE = DisputeView(7, 2, NOW - 1, mine=True, open=True)
THEIRS_OPEN = DisputeView(8, 2, NOW + 10, mine=False, open=True)
THEIRS_DUE = DisputeView(8, 2, NOW - 1, mine=False, open=True)
CLOSED = DisputeView(7, 2, NOW - 50, mine=True, open=False)
ZK = SolverParams(proofs_enabled=True)

CASES: list[tuple[str, Observation, SolverParams, Action]] = [
    ("honest claim", BASE, SolverParams(), Ignore(K)),
    ("not sampled", replace(BASE, sampled=False), SolverParams(), Ignore(K)),
    ("trace pending", replace(BASE, trace=TraceStatus.PENDING), SolverParams(), Wait(K, "")),
    ("wrong layer", replace(BASE, wrong=WRONG), SolverParams(), ProveLayerFraud(K, WRONG)),
    (
        "endpoint before layer",
        replace(BASE, wrong=WRONG, endpoint_fraud=4),
        SolverParams(),
        ProveEndpointFraud(K, 4),
    ),
    (
        "endpoint done, layer next",
        replace(BASE, wrong=WRONG, endpoint_fraud=4, done=frozenset({f"endpoint:{K.hex()}"})),
        SolverParams(),
        ProveLayerFraud(K, WRONG),
    ),
    (
        "fraud proof already sent",
        replace(BASE, wrong=WRONG, done=frozenset({f"layer:{K.hex()}"})),
        SolverParams(),
        Ignore(K),
    ),
    ("already slashed", replace(BASE, wrong=WRONG, slashed=True), SolverParams(), Ignore(K)),
    ("window closed", replace(BASE, wrong=WRONG, window_end=NOW), SolverParams(), Ignore(K)),
    (
        "window closing inside the margin",
        replace(BASE, wrong=WRONG, window_end=NOW + 5),
        SolverParams(window_margin=10),
        Ignore(K),
    ),
    (
        "window closing, still in time",
        replace(BASE, wrong=WRONG, window_end=NOW + 11),
        SolverParams(window_margin=10),
        ProveLayerFraud(K, WRONG),
    ),
    ("node withholds", replace(BASE, missing=(2, 3)), SolverParams(), ChallengeData(K, 2)),
    (
        "second withheld vector",
        replace(BASE, missing=(2, 3), data_challenges=(MINE_OPEN,)),
        SolverParams(),
        ChallengeData(K, 3),
    ),
    (
        "waiting for publication",
        replace(BASE, missing=(2,), data_challenges=(MINE_OPEN,)),
        SolverParams(),
        Wait(K, ""),
    ),
    (
        "someone else's challenge open",
        replace(BASE, missing=(2,), data_challenges=(THEIRS_OPEN,)),
        SolverParams(),
        Wait(K, ""),
    ),
    (
        "deadline passed: resolve",
        replace(BASE, missing=(2,), data_challenges=(MINE_DUE,)),
        SolverParams(),
        ResolveDataTimeout(K, 7),
    ),
    (
        "resolve even after a slash and after the window",
        replace(BASE, slashed=True, window_end=NOW - 100, data_challenges=(MINE_DUE,)),
        SolverParams(),
        ResolveDataTimeout(K, 7),
    ),
    (
        "slashed while our challenge runs: wait for its deadline",
        replace(BASE, slashed=True, data_challenges=(MINE_OPEN,)),
        SolverParams(),
        Wait(K, ""),
    ),
    (
        "others' due challenge is theirs to resolve",
        replace(BASE, missing=(2,), data_challenges=(THEIRS_DUE,)),
        SolverParams(),
        Wait(K, ""),
    ),
    (
        "resolved already",
        replace(BASE, data_challenges=(CLOSED,)),
        SolverParams(),
        Ignore(K),
    ),
    (
        "resolve recorded as done",
        replace(BASE, data_challenges=(MINE_DUE,), done=frozenset({"resolve:7"})),
        SolverParams(),
        Wait(K, ""),
    ),
    (
        "challenge refused earlier (done)",
        replace(BASE, missing=(2,), done=frozenset({f"challenge:{K.hex()}:2"})),
        SolverParams(),
        Ignore(K),
    ),
    (
        "demand a proof",
        replace(BASE, zk_sampled=True, sensitive_partitions=(1,)),
        ZK,
        DemandProof(K, 1),
    ),
    (
        "zk sampled but proofs disabled",
        replace(BASE, zk_sampled=True, sensitive_partitions=(1,)),
        SolverParams(),
        Ignore(K),
    ),
    (
        "zk only, not re-executed",
        replace(
            BASE,
            sampled=False,
            trace=TraceStatus.PENDING,
            zk_sampled=True,
            sensitive_partitions=(1,),
        ),
        ZK,
        DemandProof(K, 1),
    ),
    (
        "zk only, receipt not known yet",
        replace(
            BASE,
            sampled=False,
            trace=TraceStatus.PENDING,
            zk_sampled=True,
            claim_known=False,
        ),
        ZK,
        Wait(K, ""),
    ),
    (
        "zk, another challenger's demand open",
        replace(
            BASE,
            zk_sampled=True,
            sensitive_partitions=(1,),
            proof_demands=(DisputeView(4, 1, NOW + 5, mine=False, open=True),),
        ),
        ZK,
        Wait(K, ""),
    ),
    (
        "zk, another challenger's demand answered",
        replace(
            BASE,
            zk_sampled=True,
            sensitive_partitions=(1,),
            proof_demands=(DisputeView(4, 1, NOW - 5, mine=False, open=False),),
        ),
        ZK,
        Ignore(K),
    ),
    (
        "zk, two partitions, one demanded",
        replace(
            BASE,
            zk_sampled=True,
            sensitive_partitions=(1, 3),
            proof_demands=(DisputeView(4, 1, NOW + 5, mine=True, open=True),),
        ),
        ZK,
        DemandProof(K, 3),
    ),
    (
        "zk, but the fraud proof comes first",
        replace(BASE, wrong=WRONG, zk_sampled=True, sensitive_partitions=(1,)),
        ZK,
        ProveLayerFraud(K, WRONG),
    ),
    (
        "waiting for the proof",
        replace(
            BASE,
            zk_sampled=True,
            sensitive_partitions=(1,),
            proof_demands=(DisputeView(3, 1, NOW + 5, mine=True, open=True),),
        ),
        ZK,
        Wait(K, ""),
    ),
    (
        "proof overdue",
        replace(
            BASE,
            zk_sampled=True,
            sensitive_partitions=(1,),
            proof_demands=(DisputeView(3, 1, NOW - 5, mine=True, open=True),),
        ),
        ZK,
        ResolveProofTimeout(K, 3),
    ),
    (
        "proof accepted",
        replace(
            BASE,
            zk_sampled=True,
            sensitive_partitions=(1,),
            proof_demands=(DisputeView(3, 1, NOW - 5, mine=True, open=False),),
        ),
        ZK,
        Ignore(K),
    ),
]


@pytest.mark.parametrize(("name", "obs", "params", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decide(name: str, obs: Observation, params: SolverParams, expected: Action) -> None:
    action = decide(obs, NOW, params)
    if isinstance(expected, Wait):
        assert isinstance(action, Wait), (name, action)
    else:
        assert action == expected, name
    assert action.key not in obs.done or isinstance(action, Ignore | Wait)


@pytest.mark.parametrize(
    ("credits", "threshold", "expected"),
    [
        (0, 0, Ignore(b"")),
        (5, 10, Ignore(b"")),
        (10, 10, ClaimCredits(10)),
        (11, 0, ClaimCredits(11)),
    ],
)
def test_decide_credits(credits: int, threshold: int, expected: Action) -> None:
    assert decide_credits(credits, threshold) == expected


def test_every_action_is_reachable() -> None:
    reached = {type(decide(obs, NOW, p)) for _, obs, p, _ in CASES}
    reached |= {type(decide_credits(1, 0)), type(decide_credits(0, 0))}
    assert reached == {
        Ignore,
        Wait,
        ProveLayerFraud,
        ProveEndpointFraud,
        ChallengeData,
        ResolveDataTimeout,
        DemandProof,
        ResolveProofTimeout,
        ClaimCredits,
    }


def test_a_decision_loop_terminates() -> None:
    """Recording each returned action as done always reaches Wait or Ignore."""
    obs = replace(
        BASE,
        wrong=WRONG,
        endpoint_fraud=0,
        missing=(1, 2, 3),
        zk_sampled=True,
        sensitive_partitions=(1,),
    )
    for _ in range(20):
        action = decide(obs, NOW, ZK)
        if isinstance(action, Ignore | Wait):
            return
        obs = replace(obs, done=obs.done | {action.key})
    pytest.fail("decide kept returning actions")
