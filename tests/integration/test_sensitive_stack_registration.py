"""
Registering a model with a private two-layer partition against the real verifiers: digits layers
1–2 (64→64 relu, 64→32 relu) as one stack. Its matrices P (68×64) and V (68×32) are proven
well-formed to SumKzgVerifier, the stack is recorded by SumKzgStackVerifier (H_S = keccak256(H_P ‖
H_V)) and the model registered with SumKzgStackVerifier as the partition's verifier; a matrix
already recorded is not proven again; the registry refuses a stack not recorded, bad input is
refused before anything is sent; ``opzk node register-model --sensitive-layers 1-2`` does it all.
"""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

import numpy as np
import pytest
from eth_abi.abi import encode

from deploy.deployer import PROOF_VERIFIER, STACK_VERIFIER
from models.digits import MODEL_PATH
from models.sensitive import (
    SIDECAR_FORMAT_STACK,
    SensitiveModelError,
    StackCommitment,
    load_sidecar,
    make_sensitive,
    make_sensitive_stack,
    partition_headers_abi,
    register_sensitive_model,
    sidecar_path,
    stack_weights,
)
from models.store import load_model
from node.cli import main
from opzk.cli import EXIT_ERROR
from opzk.marketplace import Marketplace
from protocol import errors
from protocol.keccak import keccak256
from protocol.model import QuantizedModel
from protocol.model_id import LAYER_HEADER_ABI
from sumkzg import SETUP_ID, RegistrationStatement, Setup, load_setup, prove_registration
from tests.integration.chain_env import ZERO_ADDRESS, ChainEnv

PARTITION = 0


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def stacked(setup: Setup) -> tuple[QuantizedModel, StackCommitment]:
    return make_sensitive_stack(load_model(MODEL_PATH), 1, setup, rng=random.Random(2026))


def _market(chain: ChainEnv) -> Marketplace:
    return Marketplace(chain.deployment, chain.owner)


def test_digits_with_private_layers_1_2_registers(
    chain: ChainEnv, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    base, stack = chain.verifier, chain.stack_verifier
    headers = partition_headers_abi(model, PARTITION)
    h_s = keccak256(commitment.p.h_w + commitment.v.h_w)
    assert chain.call(stack.functions.isWellFormed(h_s, SETUP_ID, headers)) is False

    done = register_sensitive_model(_market(chain), model, commitment, setup=setup)
    assert done.model_id == bytes(model.model_id())
    assert done.verifier == chain.deployment.address(PROOF_VERIFIER)
    assert done.stack_verifier == chain.deployment.address(STACK_VERIFIER)
    assert done.commitment_txs == {}
    assert done.stack_commitment_txs is not None and done.record_txs is not None
    p_tx, v_tx = done.stack_commitment_txs[PARTITION]
    (p_event,) = chain.events(base, "CommitmentRegistered", p_tx)
    (v_event,) = chain.events(base, "CommitmentRegistered", v_tx)
    owner = chain.owner.address
    assert p_event == {"weightCommitment": commitment.p.h_w, "m": 68, "n": 64, "registrant": owner}
    assert v_event == {"weightCommitment": commitment.v.h_w, "m": 68, "n": 32, "registrant": owner}
    record_tx = done.record_txs[PARTITION]
    (recorded,) = chain.events(stack, "StackRecorded", record_tx)
    assert recorded == {"weightCommitment": h_s, "hP": commitment.p.h_w, "hV": commitment.v.h_w}
    print(
        f"\nregisterCommitment P (68×64) {p_tx['gasUsed']:,} gas, V (68×32) {v_tx['gasUsed']:,}; "
        f"recordStack {record_tx['gasUsed']:,}"
    )
    assert chain.call(stack.functions.isWellFormed(h_s, SETUP_ID, headers)) is True
    # Another setup id or layers of other shapes (digits layers 2–3) are not what was recorded.
    assert chain.call(stack.functions.isWellFormed(h_s, b"\x01" * 32, headers)) is False
    other = encode(
        [f"{LAYER_HEADER_ABI}[]"], [[q.header().as_abi_tuple() for q in model.layers[1:3]]]
    )
    assert chain.call(stack.functions.isWellFormed(h_s, SETUP_ID, other)) is False

    model_id = done.model_id
    assert chain.call(chain.registry.functions.isRegistered(model_id)) is True
    spec, named = chain.call(chain.registry.functions.partition(model_id, PARTITION))
    assert named == done.stack_verifier
    assert tuple(spec) == (1, 2, True, h_s, SETUP_ID)
    _, public_verifier = chain.call(chain.registry.functions.partition(model_id, 1))
    assert public_verifier == ZERO_ADDRESS

    # Again: nothing is proven or recorded anew, and the registry refuses the duplicate model.
    block = chain.block_number()
    with pytest.raises(errors.ModelAlreadyRegistered):
        register_sensitive_model(_market(chain), model, {PARTITION: commitment}, setup=setup)
    assert chain.block_number() == block


def test_a_matrix_already_recorded_is_not_proven_again(
    chain: ChainEnv, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    (p_w, p_b), _ = stack_weights((model.layers[0], model.layers[1]))
    statement = RegistrationStatement(
        chain_id=chain.deployer.chain_id,
        verifier=chain.verifier.address,
        h_w=commitment.p.h_w,
        m=68,
        n=64,
    )
    proof = prove_registration(setup, commitment.p, p_w, p_b, statement)
    chain.deployer.send(chain.verifier.functions.registerCommitment(68, 64, proof))
    done = register_sensitive_model(_market(chain), model, commitment, setup=setup)
    assert done.stack_commitment_txs is not None
    (v_tx,) = done.stack_commitment_txs[PARTITION]
    (event,) = chain.events(chain.verifier, "CommitmentRegistered", v_tx)
    assert event["weightCommitment"] == commitment.v.h_w
    assert chain.call(chain.registry.functions.isRegistered(done.model_id)) is True


def test_a_stack_not_recorded_is_refused(
    chain: ChainEnv, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    stack = chain.stack_verifier
    block = chain.block_number()
    verifiers = [stack.address, ZERO_ADDRESS]
    with pytest.raises(errors.CommitmentNotWellFormed) as info:
        _market(chain).register_model(model, verifiers)
    assert info.value.values == {"partition": PARTITION}
    # recordStack needs both matrices registered with the base verifier.
    headers = partition_headers_abi(model, PARTITION)
    with pytest.raises(errors.StackNotRegistered) as refused:
        chain.owner.send(stack.functions.recordStack(commitment.p.h_w, commitment.v.h_w, headers))
    assert refused.value.values == {"hP": commitment.p.h_w, "hV": commitment.v.h_w}
    # The one-layer verifier does not know the stack either.
    with pytest.raises(errors.CommitmentNotWellFormed):
        _market(chain).register_model(model, [chain.verifier.address, ZERO_ADDRESS])
    assert chain.block_number() == block


def test_bad_input_is_refused_before_sending(
    chain: ChainEnv, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    _, other = make_sensitive_stack(load_model(MODEL_PATH), 1, setup, rng=random.Random(8))
    _, single = make_sensitive(load_model(MODEL_PATH), 1, setup, rng=random.Random(8))
    block = chain.block_number()
    with pytest.raises(SensitiveModelError, match="no sensitive partition of the model has"):
        register_sensitive_model(_market(chain), model, other, setup=setup)
    with pytest.raises(SensitiveModelError, match="is a two-layer stack"):
        register_sensitive_model(_market(chain), model, {PARTITION: single}, setup=setup)
    with pytest.raises(SensitiveModelError, match=r"no commitment for sensitive partition\(s\)"):
        register_sensitive_model(_market(chain), model, {}, setup=setup)
    swapped = StackCommitment(commitment.v, commitment.p)
    with pytest.raises(SensitiveModelError, match="H_S 0x"):
        register_sensitive_model(_market(chain), model, {PARTITION: swapped}, setup=setup)
    assert chain.block_number() == block


# --------------------------------------------------------------------------------------------------
# opzk node register-model --sensitive-layers 1-2


def _config(tmp_path: Path, chain: ChainEnv) -> Path:
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    config = tmp_path / "node.toml"
    config.write_text(
        f'rpc_url = "{chain.anvil.rpc_url}"\nprivate_key = "{chain.owner.account.key.hex()}"\n'  # type: ignore[union-attr]
        f'deployments = "{deployments}"\ndata_dir = "data"\nmodels = ["{MODEL_PATH}"]\n'
    )
    return config


def test_cli_makes_registers_and_reuses_the_private_stack(
    chain: ChainEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, chain)
    assert main(["register-model", "--sensitive-layers", "1-2", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    target = tmp_path / "data" / "models" / "digits-sensitive-1-2.opzkmodel"
    sidecar = sidecar_path(target)
    assert f"wrote {target} (layers 1-2 private)" in out and str(sidecar) in out
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(sidecar.read_text())["format"] == SIDECAR_FORMAT_STACK
    model = load_model(target)
    assert model.hidden_indices() == frozenset({1})
    commitments = load_sidecar(target, model)
    assert list(commitments) == [PARTITION]
    assert isinstance(commitments[PARTITION], StackCommitment)
    model_id = bytes(model.model_id())
    stack_address = chain.deployment.address(STACK_VERIFIER)
    assert f"registered model 0x{model_id.hex()}" in out
    assert f"verified by {stack_address} (two-layer partitions [0])" in out
    assert "commitments proven now: 0" in out
    _, named = chain.call(chain.registry.functions.partition(model_id, PARTITION))
    assert named == stack_address
    digits = load_model(MODEL_PATH)
    assert all(
        np.array_equal(a.weights, b.weights)
        for a, b in zip(model.layers, digits.layers, strict=True)
    )

    # Again: the same private model (no new commitments, so the same id), already registered.
    before = sidecar.read_bytes()
    assert main(["register-model", "--sensitive-layers", "1-2", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"using the private model {target}" in out and "already registered" in out
    assert sidecar.read_bytes() == before
    # Served as it is, a one-layer flag on one of its private layers is refused clearly.
    served = tmp_path / "served.toml"
    served.write_text(config.read_text().replace(str(MODEL_PATH), str(target)))
    assert main(["register-model", "--config", str(served)]) == 0
    assert "is already registered" in capsys.readouterr().out
    block = chain.block_number()
    assert main(["register-model", "--sensitive-layer", "2", "--config", str(served)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "inside the sensitive partition of layers 1..2" in err
    assert main(["register-model", "--sensitive-layers", "3-4", "--config", str(config)]) == (
        EXIT_ERROR
    )
    assert "layers 3..4 are not two layers of this 3-layer model" in capsys.readouterr().err
    assert chain.block_number() == block
