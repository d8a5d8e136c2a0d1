"""Proof demands on a sensitive partition, verified by the ToggleVerifier test double."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from web3.types import TxReceipt

from protocol import errors
from protocol.activations import int8_bytes
from protocol.disputes import proof_job_id
from protocol.keccak import keccak256
from protocol.model import QuantizedModel
from protocol.model_id import LAYER_HEADER_ABI
from tests import factories
from tests.factories import SENSITIVE_FIRST, SENSITIVE_LAST, SENSITIVE_PARTITION_INDEX, Inference
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv

pytestmark = pytest.mark.anvil

ACCEPT, REJECT, REVERT = 0, 1, 2
STATUS_PROVEN, STATUS_REJECTED, STATUS_TIMED_OUT = 2, 3, 4
PARTITION_STATEMENT_ABI = "(bytes32,uint256,bytes32,bytes32,bytes,bytes,bytes,bytes32)"


def job_id(chain: ChainEnv, demand_id: int) -> bytes:
    return proof_job_id(chain.deployer.chain_id, chain.pdg.address, demand_id)


def statement_hash(chain: ChainEnv, model: QuantizedModel, inf: Inference, demand_id: int) -> bytes:
    """keccak256(abi.encode(PartitionStatement)) of what the game must ask the verifier."""
    part = model.partitions[SENSITIVE_PARTITION_INDEX]
    headers = [h.as_abi_tuple() for h in model.headers()[SENSITIVE_FIRST - 1 : SENSITIVE_LAST]]
    statement = (
        bytes(model.model_id()),
        SENSITIVE_PARTITION_INDEX,
        bytes(part.weight_commitment),
        bytes(part.setup_id),
        encode([f"{LAYER_HEADER_ABI}[]"], [headers]),
        int8_bytes(inf.vectors[SENSITIVE_FIRST - 1]),
        int8_bytes(inf.vectors[SENSITIVE_LAST]),
        job_id(chain, demand_id),
    )
    return keccak256(encode([PARTITION_STATEMENT_ABI], [statement]))


def partition_io(inf: Inference) -> tuple[bytes, list[bytes], bytes, list[bytes]]:
    a, b = SENSITIVE_FIRST - 1, SENSITIVE_LAST
    return (
        int8_bytes(inf.vectors[a]),
        inf.entry_proof(a),
        int8_bytes(inf.vectors[b]),
        inf.entry_proof(b),
    )


@pytest.fixture
def demanded(
    chain: ChainEnv, sensitive_model: QuantizedModel
) -> tuple[Inference, tuple[object, ...], int, int, TxReceipt]:
    """A sensitive-model claim committed and a proof demanded on its sensitive partition.
    Returns (inference, claim ref, batch id, demand id, demand tx)."""
    chain.register_sensitive(sensitive_model)
    chain.stake()
    infs = factories.honest_batch(
        sensitive_model, 6, node=chain.node.address, client=chain.client.address, seed=17
    )
    batch_id, tree, _ = chain.commit(infs)
    ref = chain.batch_ref(batch_id, tree, infs, 4)
    receipt = chain.challenger.send(
        chain.pdg.functions.demandProof(ref, SENSITIVE_PARTITION_INDEX),
        value=chain.params.proof_bond,
    )
    (event,) = chain.events(chain.pdg, "ProofDemanded", receipt)
    return infs[4], ref, batch_id, int(event["demandId"]), receipt


def test_demand_locks_the_bond_and_announces_the_job(
    chain: ChainEnv, demanded: tuple[Inference, tuple[object, ...], int, int, TxReceipt]
) -> None:
    _, ref, batch_id, demand_id, receipt = demanded
    (event,) = chain.events(chain.pdg, "ProofDemanded", receipt)
    ts = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    assert demand_id == 1
    assert event == {
        "demandId": 1,
        "claimKey": key,
        "node": chain.node.address,
        "challenger": chain.challenger.address,
        "partitionIndex": SENSITIVE_PARTITION_INDEX,
        "deadline": ts + chain.params.proof_response_window,
        "jobId": job_id(chain, 1),
    }
    assert chain.call(chain.pdg.functions.jobId(1)) == job_id(chain, 1)
    assert (
        chain.call(chain.stakes.functions.bondsOf(chain.challenger.address))
        == chain.params.proof_bond
    )
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 1
    with pytest.raises(errors.DemandAlreadyOpen):
        chain.challenger2.send(
            chain.pdg.functions.demandProof(ref, SENSITIVE_PARTITION_INDEX),
            value=chain.params.proof_bond,
        )
    with pytest.raises(errors.NotSensitivePartition) as info:
        chain.challenger.send(
            chain.pdg.functions.demandProof(ref, 0), value=chain.params.proof_bond
        )
    assert info.value.values == {"partitionIndex": 0}
    with pytest.raises(errors.WrongBond):
        chain.challenger.send(chain.pdg.functions.demandProof(ref, 2), value=chain.params.data_bond)


def test_valid_proof_pays_the_bond_to_the_node(
    chain: ChainEnv,
    sensitive_model: QuantizedModel,
    demanded: tuple[Inference, tuple[object, ...], int, int, TxReceipt],
) -> None:
    inf, _, batch_id, demand_id, _ = demanded
    # The double accepts only the exact statement the game must build: the partition's headers,
    # commitment, revealed vectors and the demand's job id.
    chain.deployer.send(chain.toggle.functions.setMode(ACCEPT))
    chain.deployer.send(
        chain.toggle.functions.expectStatement(
            statement_hash(chain, sensitive_model, inf, demand_id)
        )
    )
    node, ch = chain.node.address, chain.challenger.address
    before = chain.ledger(node, ch)

    # Only the claim's node may answer; evidence that is not the committed trace reverts.
    io = partition_io(inf)
    with pytest.raises(errors.NotClaimNode):
        chain.challenger.send(chain.pdg.functions.submitProof(demand_id, io, b"proof"))
    bad_io = (io[0], io[1], io[0], io[3])
    with pytest.raises(errors.InvalidTraceProof) as info:
        chain.node.send(chain.pdg.functions.submitProof(demand_id, bad_io, b"proof"))
    assert info.value.values == {"index": SENSITIVE_LAST}
    assert chain.ledger(node, ch) == before

    receipt = chain.node.send(chain.pdg.functions.submitProof(demand_id, io, b"proof"))
    key = bytes(chain.events(chain.pdg, "ProofAccepted", receipt)[0]["claimKey"])
    assert chain.events(chain.pdg, "ProofRejected", receipt) == []
    after = chain.ledger(node, ch)
    assert after[f"scredit:{node}"] == before[f"scredit:{node}"] + chain.params.proof_bond
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"]
    assert after[f"bond:{ch}"] == 0
    assert after[f"stake:{node}"] == before[f"stake:{node}"]
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
    assert chain.call(chain.market.functions.fraudulent(key)) is False
    with pytest.raises(errors.DemandNotOpen):
        chain.node.send(chain.pdg.functions.submitProof(demand_id, io, b"proof"))


def test_statement_mismatch_is_treated_as_invalid(
    chain: ChainEnv, demanded: tuple[Inference, tuple[object, ...], int, int, TxReceipt]
) -> None:
    """The pinned statement of another demand id does not verify: the job id binds the proof."""
    inf, _, _, demand_id, _ = demanded
    chain.deployer.send(
        chain.toggle.functions.expectStatement(
            statement_hash(chain, factories.sensitive_model(), inf, demand_id + 1)
        )
    )
    receipt = chain.node.send(chain.pdg.functions.submitProof(demand_id, partition_io(inf), b""))
    (event,) = chain.events(chain.pdg, "ProofRejected", receipt)
    assert event["slashed"] == chain.params.slash_amount


@pytest.mark.parametrize("mode", [REJECT, REVERT], ids=["rejects", "reverts"])
def test_invalid_proof_slashes_the_node(
    chain: ChainEnv,
    demanded: tuple[Inference, tuple[object, ...], int, int, TxReceipt],
    mode: int,
) -> None:
    inf, ref, batch_id, demand_id, _ = demanded
    chain.deployer.send(chain.toggle.functions.setMode(mode))
    node, ch = chain.node.address, chain.challenger.address
    before = chain.ledger(node, ch)
    receipt = chain.node.send(chain.pdg.functions.submitProof(demand_id, partition_io(inf), b"x"))
    (event,) = chain.events(chain.pdg, "ProofRejected", receipt)
    assert event["demandId"] == demand_id
    assert event["slashed"] == chain.params.slash_amount
    after = chain.ledger(node, ch)
    slash, reward = chain.params.slash_amount, chain.reward()
    assert after[f"stake:{node}"][0] == before[f"stake:{node}"][0] - slash
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"] + chain.params.proof_bond + reward
    assert after[f"scredit:{node}"] == before[f"scredit:{node}"]
    assert after[f"eth:{BURN_ADDRESS}"] == before[f"eth:{BURN_ADDRESS}"] + slash - reward
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_REJECTED
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    assert chain.call(chain.market.functions.fraudulent(key)) is True


def test_missing_proof_slashes_after_the_deadline(
    chain: ChainEnv, demanded: tuple[Inference, tuple[object, ...], int, int, TxReceipt]
) -> None:
    inf, _, batch_id, demand_id, receipt = demanded
    ts = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    deadline = ts + chain.params.proof_response_window
    node, ch = chain.node.address, chain.challenger.address
    before = chain.ledger(node, ch)
    with pytest.raises(errors.DeadlineNotPassed) as info:
        chain.challenger.send(chain.pdg.functions.resolveTimeout(demand_id))
    assert info.value.values == {"deadline": deadline}

    chain.advance(deadline + 1 - chain.now())
    with pytest.raises(errors.DeadlinePassed):
        chain.node.send(chain.pdg.functions.submitProof(demand_id, partition_io(inf), b"late"))
    receipt = chain.challenger.send(chain.pdg.functions.resolveTimeout(demand_id))
    (event,) = chain.events(chain.pdg, "ProofDemandTimedOut", receipt)
    assert event["slashed"] == chain.params.slash_amount
    after = chain.ledger(node, ch)
    slash, reward = chain.params.slash_amount, chain.reward()
    assert after[f"stake:{node}"][0] == before[f"stake:{node}"][0] - slash
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"] + chain.params.proof_bond + reward
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_TIMED_OUT
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
