"""
The challenger's own loop against the real contracts on Anvil.

The node side is played by the test: it commits batches through ``Marketplace.commit_batch`` and
serves receipts and traces through an in-process ``MemoryTraceSource`` (the node API's stand-in);
the challenger runs its real watcher (``eth_getLogs``), sampler, re-executor, solver and responder.
Jobs are called directly (``tick``), never by sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from challenger.responder import Outcome
from challenger.sampling import Sampler
from challenger.service import Challenger, claim_key
from challenger.solver import SolverParams
from challenger.source import MemoryTraceSource
from challenger.state import ChallengerState
from challenger.watcher import Web3EventSource
from opzk.chain import ChainClient
from opzk.marketplace import CommittedBatch, ComputedClaim, Marketplace, compute_claim
from protocol.activations import act_hash
from protocol.model import QuantizedModel
from protocol.receipts import CLAIM_SOURCE_BATCH
from tests import factories
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

SECRET = bytes.fromhex("11" * 32)


def make_challenger(
    chain: ChainEnv,
    who: ChainClient,
    model: QuantizedModel,
    source: MemoryTraceSource,
    state_path: Path,
    p: float = 1.0,
) -> Challenger:
    market = Marketplace(chain.deployment, who)
    contracts = {
        name: market._contract(name)
        for name in ("InferenceMarket", "DataAvailabilityGame", "ProofDemandGame")
    }
    return Challenger(
        market=market,
        state=ChallengerState(state_path),
        source=source,
        events=Web3EventSource(who.w3, contracts),
        models={bytes(model.model_id()): model},
        sampler=Sampler(SECRET, p, 0.0),
        solver_params=SolverParams(),
        credit_threshold=10**30,  # only the test withdraws
        device="cpu",
        start_block=chain.session.base_block,
    )


def commit(
    chain: ChainEnv,
    model: QuantizedModel,
    source: MemoryTraceSource,
    n: int,
    *,
    seed: int,
    first_id: int = 1,
    tamper: dict[int, tuple[int, int]] | None = None,
    endpoint_cheat: Sequence[int] = (),
) -> tuple[CommittedBatch, list[ComputedClaim]]:
    """The node computes ``n`` claims (some tampered), commits them, and serves them."""
    rng = factories.rng_for(seed)
    node = Marketplace(chain.deployment, chain.node)
    claims = []
    for i in range(n):
        x = factories.random_input(rng, model.layers[0].in_dim)
        claim = compute_claim(
            model,
            x,
            request_id=first_id + i,
            node=chain.node.address,
            client=chain.client.address,
            tamper=(tamper or {}).get(i),
        )
        if i in endpoint_cheat:
            # The receipt claims an output the committed trace does not end with.
            fake = np.zeros(model.layers[-1].out_dim, dtype=np.int8)
            claim = replace(claim, receipt=replace(claim.receipt, output_hash=act_hash(fake)))
        claims.append(claim)
    batch, _ = node.commit_batch(claims)
    source.add_batch(
        batch.batch_id,
        [c.receipt for c in claims],
        batch.tree.levels[0],
        [(c.activation_hashes, c.vectors) for c in claims],
    )
    return batch, claims


def key_of(batch: CommittedBatch, index: int) -> bytes:
    return claim_key(CLAIM_SOURCE_BATCH, batch.batch_id, batch.tree.levels[0][index])


def sent(outcomes: Sequence[Outcome | None]) -> list[str]:
    return [o.key.split(":")[0] for o in outcomes if o is not None and o.status == "sent"]


@pytest.fixture
def setup(chain: ChainEnv, public_model: QuantizedModel) -> QuantizedModel:
    chain.register(public_model)
    chain.stake()
    return public_model


def test_claim_key_matches_the_market(
    chain: ChainEnv, setup: QuantizedModel, tmp_path: Path
) -> None:
    source = MemoryTraceSource()
    batch, _ = commit(chain, setup, source, 3, seed=1)
    ref = batch.claim_ref(2)
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    assert key == key_of(batch, 2)


@pytest.mark.parametrize(
    ("case", "tamper", "endpoint"),
    [
        ("final output", {3: (3, 1)}, ()),
        ("intermediate layer", {3: (1, 5)}, ()),
        ("trace endpoint", {}, (3,)),
    ],
)
def test_cheat_is_detected_and_slashed(
    chain: ChainEnv,
    setup: QuantizedModel,
    tmp_path: Path,
    case: str,
    tamper: dict[int, tuple[int, int]],
    endpoint: tuple[int, ...],
) -> None:
    source = MemoryTraceSource()
    ch = make_challenger(chain, chain.challenger, setup, source, tmp_path / "s.db")
    batch, _ = commit(chain, setup, source, 8, seed=2, tamper=tamper, endpoint_cheat=endpoint)
    stake_before = chain.stake_of(chain.node.address)[0]
    credits_before = chain.call(chain.stakes.functions.credits(chain.challenger.address))

    outcomes = ch.tick()

    expected = "endpoint" if endpoint else "layer"
    assert sent(outcomes) == [expected], (case, outcomes)
    assert chain.call(chain.market.functions.fraudulent(key_of(batch, 3)))
    assert chain.stake_of(chain.node.address)[0] == stake_before - chain.params.slash_amount
    credits = chain.call(chain.stakes.functions.credits(chain.challenger.address))
    assert credits == credits_before + chain.reward()
    # Nothing more happens on the next rounds, and no other claim is disputed.
    assert sent(ch.tick()) == []
    assert [c for c in ch.state.all_claims() if not c.settled] == []
    assert ch.state.outcomes() == {f"{expected}:{key_of(batch, 3).hex()}": "sent"}


def test_honest_batch_is_never_disputed(
    chain: ChainEnv, setup: QuantizedModel, tmp_path: Path
) -> None:
    source = MemoryTraceSource()
    ch = make_challenger(chain, chain.challenger, setup, source, tmp_path / "s.db")
    batches = [
        commit(chain, setup, source, 128, seed=3 + k, first_id=1 + 128 * k)[0] for k in range(2)
    ]
    nonce = chain.nonce(chain.challenger.address)
    assert sent(ch.tick()) == []
    assert sent(ch.tick()) == []
    assert chain.nonce(chain.challenger.address) == nonce  # not a single transaction
    counters = ch.state.counters()
    assert counters["claims_listed"] == 256
    assert counters["reexecuted"] == 256
    assert all(c.settled and c.wrong is None and not c.missing for c in ch.state.all_claims())
    for b in batches:
        assert chain.call(chain.market.functions.openDisputes(0, b.batch_id)) == 0


def test_withheld_vector_gets_a_data_challenge_then_a_slash(
    chain: ChainEnv, setup: QuantizedModel, tmp_path: Path
) -> None:
    source = MemoryTraceSource()
    ch = make_challenger(chain, chain.challenger, setup, source, tmp_path / "s.db")
    batch, claims = commit(chain, setup, source, 4, seed=5)
    source.withheld.add((int(claims[1].receipt.request_id), 2))
    me = chain.challenger.address
    eth_before = chain.balance(me)

    assert sent(ch.tick()) == ["challenge"]
    assert chain.call(chain.stakes.functions.bondsOf(me)) == chain.params.data_bond
    assert sent(ch.tick()) == []  # waiting for the node
    chain.advance(chain.params.data_response_window + 1)
    outcomes = ch.tick()
    assert sent(outcomes) == ["resolve"]
    assert chain.call(chain.market.functions.fraudulent(key_of(batch, 1)))
    assert chain.call(chain.stakes.functions.bondsOf(me)) == 0
    credits = chain.call(chain.stakes.functions.credits(me))
    assert credits == chain.reward() + chain.params.data_bond
    ch.credit_threshold = 1
    out = ch.claim_credits()
    assert out is not None and out.status == "sent"
    assert chain.call(chain.stakes.functions.credits(me)) == 0
    # Paid: the reward net of the gas of three transactions.
    assert chain.balance(me) > eth_before + chain.reward() - 10**16
    assert ch.state.open_disputes(me) == 0


def test_published_vector_ends_the_challenge_and_the_claim_is_rechecked(
    chain: ChainEnv, setup: QuantizedModel, tmp_path: Path
) -> None:
    source = MemoryTraceSource()
    ch = make_challenger(chain, chain.challenger, setup, source, tmp_path / "s.db")
    batch, claims = commit(chain, setup, source, 4, seed=6, tamper={2: (2, 0)})
    source.withheld.add((int(claims[2].receipt.request_id), 2))
    # Layer 2's output is withheld; layer 3 is computed honestly from the wrong value, so only the
    # withheld vector shows the fraud.
    assert sent(ch.tick()) == ["challenge"]
    node = Marketplace(chain.deployment, chain.node)
    (challenge_id,) = [
        d.dispute_id
        for d in ch.state.disputes_of(key_of(batch, 2), "data", chain.challenger.address)
    ]
    node.publish_data(challenge_id, claims[2], 2)
    assert sent(ch.tick()) == ["layer"]
    assert chain.call(chain.market.functions.fraudulent(key_of(batch, 2)))


def test_restarted_challenger_finishes_the_dispute(
    chain: ChainEnv, setup: QuantizedModel, tmp_path: Path
) -> None:
    source = MemoryTraceSource()
    path = tmp_path / "s.db"
    first = make_challenger(chain, chain.challenger, setup, source, path)
    batch, claims = commit(chain, setup, source, 4, seed=7)
    source.withheld.add((int(claims[0].receipt.request_id), 1))
    assert sent(first.tick()) == ["challenge"]
    first.state.close()  # killed

    chain.advance(chain.params.data_response_window + 1)
    second = make_challenger(chain, chain.challenger, setup, source, path)
    assert sent(second.tick()) == ["resolve"]
    assert chain.call(chain.market.functions.fraudulent(key_of(batch, 0)))
    assert second.state.open_disputes(chain.challenger.address) == 0
    assert sent(second.tick()) == []


def test_two_challengers_race_one_is_paid_nobody_loses(
    chain: ChainEnv, setup: QuantizedModel, tmp_path: Path
) -> None:
    source = MemoryTraceSource()
    a = make_challenger(chain, chain.challenger, setup, source, tmp_path / "a.db")
    b = make_challenger(chain, chain.challenger2, setup, source, tmp_path / "b.db")
    commit(chain, setup, source, 6, seed=8, tamper={4: (1, 2)})
    for c in (a, b):
        c.watch()
        c.list_batches()
        c.reexecute()
    eth_b, nonce_b = (
        chain.balance(chain.challenger2.address),
        chain.nonce(chain.challenger2.address),
    )
    assert sent(a.act()) == ["layer"]
    outcomes_b = b.act()
    assert [o.status for o in outcomes_b] == ["settled:ClaimAlreadySlashed"]
    assert chain.balance(chain.challenger2.address) == eth_b  # its tx was never sent
    assert chain.nonce(chain.challenger2.address) == nonce_b
    assert chain.call(chain.stakes.functions.credits(chain.challenger.address)) == chain.reward()
    assert chain.call(chain.stakes.functions.credits(chain.challenger2.address)) == 0
    assert sent(b.tick()) == [] and sent(a.tick()) == []
