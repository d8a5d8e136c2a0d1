"""
Proof demands end to end: the real challenger service (proofs enabled, ``p_zk = 1``) against the
real node service serving the digits model with layer 2 private, every proof checked on-chain by
the real ``SumKzgVerifier``.

An honest node proves every demanded partition and is paid each bond, nobody is slashed; a node
in cheat mode ``invalid_proof`` answers with proofs that do not verify and is slashed with the
preset's split; one in ``refused_proof`` never answers, and the challenger (restarted meanwhile on
its state file) resolves each demand after its deadline, slashing the node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from challenger.service import Challenger
from opzk.marketplace import Marketplace
from protocol.params import BPS
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv
from tests.integration.e2e.conftest import (
    PRIVATE_PARTITION,
    E2EEnv,
    PrivateModel,
    RunningNode,
    ServiceThread,
    advance,
    random_inputs,
    reader,
    wait_for,
)

pytestmark = pytest.mark.anvil

STATUS_PROVEN, STATUS_REJECTED, STATUS_TIMED_OUT = 2, 3, 4
"""``ProofDemandGame.Status`` of a closed demand."""
CLAIMS = 2
"""Off-chain requests per test (each one demanded)."""


def pdg_logs(chain: ChainEnv, name: str) -> list[Any]:
    """The ``ProofDemandGame`` events ``name`` since the session's snapshot."""
    event = getattr(chain.pdg.events, name)()
    return list(event.get_logs(from_block=chain.session.base_block))


def slashed_logs(chain: ChainEnv) -> list[Any]:
    """Every ``ClaimSlashed`` since the session's snapshot."""
    return list(chain.market.events.ClaimSlashed().get_logs(from_block=chain.session.base_block))


def exactly(logs: Callable[[], list[Any]], count: int) -> Callable[[], list[Any] | None]:
    """A ``wait_for`` predicate: the logs once there are ``count`` of them."""

    def check() -> list[Any] | None:
        found = logs()
        return found if len(found) == count else None

    return check


def _start(
    private_model: PrivateModel,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    **node_settings: Any,
) -> tuple[RunningNode, Challenger]:
    node = start_node(models=[private_model.path], **node_settings)
    ch = start_challenger(
        "challenger",
        node.url,
        models=[str(private_model.public_path)],
        proofs_enabled=True,
        p_zk=1.0,
    )
    return node, ch


def _serve(node: RunningNode, private_model: PrivateModel, n: int) -> tuple[list[int], set[bytes]]:
    """``n`` committed requests: their ids and claim keys."""
    bodies = node.infer(random_inputs(n, seed=70), threads=1)
    ids = [int(b["request_id"]) for b in bodies]
    node.wait_all_committed(n)
    keys = {bytes.fromhex(node.get(f"/receipts/{i}")["claim_key"][2:]) for i in ids}
    return ids, keys


def test_honest_node_proves_every_demand_and_nobody_is_slashed(
    e2e: E2EEnv,
    private_model: PrivateModel,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves: with ``p_zk = 1`` the challenger demands a proof of the private partition of every
    claim (batch receipts and an on-chain request alike), posting the preset's bond; the honest
    node answers each one, the verifier accepts it, each bond is credited to the node, no claim
    is slashed and the challenger settles every claim with one ``sent`` demand each.
    """
    chain = e2e.chain
    p = chain.params
    node, ch = _start(private_model, start_node, start_challenger)
    me, node_address = ch.me, chain.node.address
    before = chain.ledger(node_address, me)
    run_in_background(ch, 0.2)

    client = Marketplace(chain.deployment, chain.client)
    x = np.asarray(random_inputs(1, seed=71)[0], dtype=np.int8)
    onchain = client.request_inference(private_model.model_id, x, p.min_request_fee)
    ids, keys = _serve(node, private_model, CLAIMS)
    wait_for(
        lambda: node.get(f"/requests/{onchain}")["status"] == "committed",
        what="the node to fulfil the on-chain request",
    )
    demands = CLAIMS + 1
    accepted = wait_for(
        exactly(lambda: pdg_logs(chain, "ProofAccepted"), demands),
        timeout=60,
        what=f"{demands} accepted proofs",
    )
    demanded = pdg_logs(chain, "ProofDemanded")
    assert len(demanded) == demands
    assert {e["args"]["challenger"] for e in demanded} == {me}
    assert {int(e["args"]["partitionIndex"]) for e in demanded} == {PRIVATE_PARTITION}
    assert keys < {bytes(e["args"]["claimKey"]) for e in accepted}
    for event in demanded:
        demand = chain.call(chain.pdg.functions.getDemand(int(event["args"]["demandId"])))
        assert demand[4] == STATUS_PROVEN
    assert pdg_logs(chain, "ProofRejected") == pdg_logs(chain, "ProofDemandTimedOut") == []

    state = reader(ch)
    wait_for(lambda: not state.active_claims(), what="the challenger to settle every claim")
    outcomes = state.outcomes()
    assert len(outcomes) == demands
    assert all(k.startswith("demand:") and k.endswith(f":{PRIVATE_PARTITION}") for k in outcomes)
    assert set(outcomes.values()) == {"sent"}
    assert state.open_disputes(me) == 0
    state.close()

    after = chain.ledger(node_address, me)
    assert slashed_logs(chain) == []
    assert after[f"stake:{node_address}"] == before[f"stake:{node_address}"]
    assert after[f"scredit:{node_address}"] == before[f"scredit:{node_address}"] + demands * (
        p.proof_bond
    )
    assert after[f"bond:{me}"] == 0
    assert after[f"scredit:{me}"] == before[f"scredit:{me}"]
    for request_id in ids:
        kinds = [d["kind"] for d in node.get(f"/receipts/{request_id}")["disputes"]]
        assert "proof_accepted" in kinds


@pytest.mark.parametrize("mode", ["invalid_proof", "refused_proof"])
def test_a_node_that_does_not_prove_is_slashed_with_the_presets_split(
    mode: str,
    e2e: E2EEnv,
    private_model: PrivateModel,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves, per proof cheat mode at rate 1: the challenger demands a proof of every claim; an
    ``invalid_proof`` answer is rejected on-chain (``ProofRejected``) and a ``refused_proof``
    node never answers, so the challenger — stopped and started again on its state file while
    the demands are open — resolves each demand once its deadline passed
    (``ProofDemandTimedOut``). Either way each claim is slashed once, the challenger gets its bond
    back plus the reward, the rest of the slash is burnt, and the node's cheat record says the
    cheat took effect.
    """
    chain = e2e.chain
    p = chain.params
    chain.stake(amount=CLAIMS * p.slash_amount)  # each slash takes the full amount
    node, ch = _start(
        private_model, start_node, start_challenger, cheat_rate=1.0, cheat_modes=[mode]
    )
    me, node_address = ch.me, chain.node.address
    stake_before = chain.stake_of(node_address)[0]
    credits_before = chain.call(chain.stakes.functions.credits(me))
    burnt_before = chain.balance(BURN_ADDRESS)
    service = run_in_background(ch, 0.2)
    ids, keys = _serve(node, private_model, CLAIMS)

    if mode == "refused_proof":
        wait_for(
            lambda: len(pdg_logs(chain, "ProofDemanded")) == CLAIMS, what="a demand of each claim"
        )
        wait_for(
            lambda: all(r["effective"] for r in node.cheats()),
            what="the node to refuse every demand",
        )
        service.stop()  # restart-safe: a new challenger on the same state file finishes the job
        advance(chain, p.proof_response_window + 1)
        again = start_challenger(
            "challenger",
            node.url,
            models=[str(private_model.public_path)],
            proofs_enabled=True,
            p_zk=1.0,
        )
        run_in_background(again, 0.2)
    closing = "ProofRejected" if mode == "invalid_proof" else "ProofDemandTimedOut"
    closed = wait_for(
        exactly(lambda: pdg_logs(chain, closing), CLAIMS),
        timeout=60,
        what=f"{CLAIMS} {closing} events",
    )
    assert {bytes(e["args"]["claimKey"]) for e in closed} == keys
    assert all(int(e["args"]["slashed"]) == p.slash_amount for e in closed)
    slashed = wait_for(
        exactly(lambda: slashed_logs(chain), CLAIMS),
        what="every claim to be slashed",
    )
    assert {bytes(e["args"]["claimKey"]) for e in slashed} == keys
    assert pdg_logs(chain, "ProofAccepted") == []
    demanded = pdg_logs(chain, "ProofDemanded")
    assert len(demanded) == CLAIMS  # the restarted challenger demanded nothing twice
    assert {e["args"]["challenger"] for e in demanded} == {me}

    records = node.cheats()
    assert sorted(int(r["request_id"]) for r in records) == ids
    assert {(r["mode"], r["effective"]) for r in records} == {(mode, True)}

    reward = p.slash_amount * p.challenger_reward_bps // BPS
    assert chain.stake_of(node_address)[0] == stake_before - CLAIMS * p.slash_amount
    credits = chain.call(chain.stakes.functions.credits(me))
    assert credits == credits_before + CLAIMS * (p.proof_bond + reward)
    assert chain.call(chain.stakes.functions.bondsOf(me)) == 0
    assert chain.balance(BURN_ADDRESS) == burnt_before + CLAIMS * (p.slash_amount - reward)

    final = wait_for(lambda: run_state_settled(ch), what="the challenger to settle every claim")
    expected = {"demand"} | ({"resolve-demand"} if mode == "refused_proof" else set())
    assert {k.split(":")[0] for k in final} == expected
    assert set(final.values()) == {"sent"}
    wait_for(
        lambda: all(node.get(f"/receipts/{i}")["status"] == "slashed" for i in ids),
        what="the node's watcher to record the slashes",
    )


def run_state_settled(ch: Challenger) -> dict[str, str] | None:
    """The challenger's action outcomes once no claim is active (None before)."""
    state = reader(ch)
    try:
        return None if state.active_claims() else state.outcomes()
    finally:
        state.close()
