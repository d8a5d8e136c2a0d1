"""
Registering a model with a private layer against the real SumKzgVerifier: the digits model with
layer 2 (64 → 32, relu) sensitive is proven well-formed, recorded and registered; the registry
refuses a commitment the verifier has not recorded, and the verifier refuses a bad proof.
"""

from __future__ import annotations

import random
import stat
from pathlib import Path

import pytest

from deploy.deployer import PROOF_VERIFIER
from models.digits import MODEL_PATH
from models.sensitive import (
    SensitiveModelError,
    layer_headers_abi,
    load_sidecar,
    make_sensitive,
    register_sensitive_model,
    sidecar_path,
)
from models.store import load_model
from node.cli import main
from opzk.cli import EXIT_ERROR
from opzk.marketplace import Marketplace
from protocol import errors
from protocol.model import QuantizedModel
from sumkzg import (
    SETUP_ID,
    RegistrationStatement,
    Setup,
    WeightCommitment,
    load_setup,
    prove_registration,
)
from sumkzg.layout import Layout
from sumkzg.proof import RegistrationProof
from tests.integration.chain_env import ZERO_ADDRESS, ChainEnv

LAYER = 2
PARTITION = 1


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def private_digits(setup: Setup) -> tuple[QuantizedModel, WeightCommitment]:
    return make_sensitive(load_model(MODEL_PATH), LAYER, setup, rng=random.Random(2024))


def _verifier(chain: ChainEnv) -> object:
    address = chain.deployment.address(PROOF_VERIFIER)
    return chain.deployer.contract(address, chain.deployment.abis[PROOF_VERIFIER])


def _registration_proof(
    chain: ChainEnv, setup: Setup, model: QuantizedModel, commitment: WeightCommitment
) -> bytes:
    layer = model.layers[LAYER - 1]
    statement = RegistrationStatement(
        chain_id=chain.deployer.chain_id,
        verifier=chain.deployment.address(PROOF_VERIFIER),
        h_w=commitment.h_w,
        m=commitment.m,
        n=commitment.n,
    )
    return prove_registration(setup, commitment, layer.weights, layer.biases, statement)


def test_digits_with_private_layer_2_registers(
    chain: ChainEnv, setup: Setup, private_digits: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, commitment = private_digits
    verifier = _verifier(chain)
    headers = layer_headers_abi(model.layers[LAYER - 1])
    is_well_formed = verifier.functions.isWellFormed  # type: ignore[attr-defined]
    assert chain.call(is_well_formed(commitment.h_w, SETUP_ID, headers)) is False

    done = register_sensitive_model(
        Marketplace(chain.deployment, chain.owner), model, commitment, setup=setup
    )
    assert done.model_id == bytes(model.model_id())
    assert done.verifier == chain.deployment.address(PROOF_VERIFIER)
    (tx,) = done.commitment_txs.values()
    (event,) = chain.events(verifier, "CommitmentRegistered", tx)  # type: ignore[arg-type]
    assert event == {
        "weightCommitment": commitment.h_w,
        "m": 32,
        "n": 64,
        "registrant": chain.owner.address,
    }
    print(f"\nregisterCommitment(32, 64) gas: {tx['gasUsed']:,}")
    assert chain.call(is_well_formed(commitment.h_w, SETUP_ID, headers)) is True
    # Another setup id or another shape is not what was proven.
    assert chain.call(is_well_formed(commitment.h_w, b"\x01" * 32, headers)) is False
    other_headers = layer_headers_abi(model.layers[0])
    assert chain.call(is_well_formed(commitment.h_w, SETUP_ID, other_headers)) is False

    model_id = done.model_id
    assert chain.call(chain.registry.functions.isRegistered(model_id)) is True
    assert chain.call(chain.registry.functions.ownerOf(model_id)) == chain.owner.address
    spec, named = chain.call(chain.registry.functions.partition(model_id, PARTITION))
    assert named == done.verifier
    assert tuple(spec) == (LAYER, LAYER, True, commitment.h_w, SETUP_ID)
    _, public_verifier = chain.call(chain.registry.functions.partition(model_id, 0))
    assert public_verifier == ZERO_ADDRESS

    # Registering again proves nothing new (the verifier knows the commitment) and the registry
    # refuses the duplicate model.
    with pytest.raises(errors.ModelAlreadyRegistered):
        register_sensitive_model(
            Marketplace(chain.deployment, chain.owner), model, {PARTITION: commitment}, setup=setup
        )


def test_unproven_commitment_is_refused_by_the_registry(
    chain: ChainEnv, setup: Setup, private_digits: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, _ = private_digits
    verifiers = [
        chain.deployment.address(PROOF_VERIFIER) if p.sensitive else ZERO_ADDRESS
        for p in model.partitions
    ]
    block = chain.block_number()
    with pytest.raises(errors.CommitmentNotWellFormed) as info:
        Marketplace(chain.deployment, chain.owner).register_model(model, verifiers)
    assert info.value.values == {"partition": PARTITION}
    assert chain.block_number() == block
    assert chain.call(chain.registry.functions.isRegistered(model.model_id())) is False


def test_bad_registration_proofs_revert_with_the_verifiers_errors(
    chain: ChainEnv, setup: Setup, private_digits: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, commitment = private_digits
    verifier = _verifier(chain)
    register = verifier.functions.registerCommitment  # type: ignore[attr-defined]
    proof = _registration_proof(chain, setup, model, commitment)
    layout = Layout.of(32, 64)
    sumcheck = RegistrationProof.sumcheck_offset(layout)
    tampered = bytearray(proof)
    tampered[sumcheck + 31] ^= 1  # the low byte of the first round's s(0): still a canonical scalar
    with pytest.raises(errors.InvalidRegistrationProof):
        chain.owner.send(register(32, 64, bytes(tampered)))
    with pytest.raises(errors.WrongProofLength) as info:
        chain.owner.send(register(32, 64, proof[:-32]))
    assert info.value.values == {"expected": len(proof), "actual": len(proof) - 32}
    with pytest.raises(errors.UnsupportedShape):
        chain.owner.send(register(0, 64, proof))
    # A proof for another verifier (the statement binds the address) does not verify here.
    layer = model.layers[LAYER - 1]
    elsewhere = RegistrationStatement(
        chain_id=chain.deployer.chain_id,
        verifier="0x" + "11" * 20,
        h_w=commitment.h_w,
        m=32,
        n=64,
    )
    foreign = prove_registration(setup, commitment, layer.weights, layer.biases, elsewhere)
    with pytest.raises(errors.InvalidRegistrationProof):
        chain.owner.send(register(32, 64, foreign))
    headers = layer_headers_abi(layer)
    assert chain.call(verifier.functions.isWellFormed(commitment.h_w, SETUP_ID, headers)) is False  # type: ignore[attr-defined]
    # The untouched proof is accepted.
    chain.owner.send(register(32, 64, proof))
    assert chain.call(verifier.functions.isWellFormed(commitment.h_w, SETUP_ID, headers)) is True  # type: ignore[attr-defined]


def test_a_commitment_of_another_model_is_refused_before_sending(
    chain: ChainEnv, setup: Setup, private_digits: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, _ = private_digits
    _, other = make_sensitive(load_model(MODEL_PATH), LAYER, setup, rng=random.Random(7))
    block = chain.block_number()
    with pytest.raises(SensitiveModelError, match="no sensitive partition of the model has"):
        register_sensitive_model(Marketplace(chain.deployment, chain.owner), model, other)
    with pytest.raises(SensitiveModelError, match=r"no commitment for sensitive partition\(s\)"):
        register_sensitive_model(Marketplace(chain.deployment, chain.owner), model, {})
    assert chain.block_number() == block


# --------------------------------------------------------------------------------------------------
# opzk node register-model --sensitive-layer N


def _config(tmp_path: Path, chain: ChainEnv) -> Path:
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    config = tmp_path / "node.toml"
    config.write_text(
        f'rpc_url = "{chain.anvil.rpc_url}"\nprivate_key = "{chain.owner.account.key.hex()}"\n'  # type: ignore[union-attr]
        f'deployments = "{deployments}"\ndata_dir = "data"\nmodels = ["{MODEL_PATH}"]\n'
    )
    return config


def test_cli_makes_registers_and_reuses_the_private_model(
    chain: ChainEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, chain)
    assert main(["register-model", "--sensitive-layer", "2", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    target = tmp_path / "data" / "models" / "digits-sensitive-2.opzkmodel"
    sidecar = sidecar_path(target)
    assert f"wrote {target} (layer 2 private)" in out and str(sidecar) in out
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    model = load_model(target)
    commitments = load_sidecar(target, model)
    assert list(commitments) == [PARTITION]
    model_id = bytes(model.model_id())
    assert f"registered model 0x{model_id.hex()}" in out
    assert "commitments proven now: 1" in out
    assert chain.call(chain.registry.functions.isRegistered(model_id)) is True
    _, named = chain.call(chain.registry.functions.partition(model_id, PARTITION))
    assert named == chain.deployment.address(PROOF_VERIFIER)

    # Again: the same private model (no new commitment, so the same id), already registered.
    before = sidecar.read_bytes()
    assert main(["register-model", "--sensitive-layer", "2", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"using the private model {target}" in out and "already registered" in out
    assert sidecar.read_bytes() == before
    # Configured as the served model, it needs no flag.
    served = tmp_path / "served.toml"
    served.write_text(config.read_text().replace(str(MODEL_PATH), str(target)))
    assert main(["register-model", "--config", str(served)]) == 0
    assert f"model 0x{model_id.hex()} ({target.name}) is already registered" in (
        capsys.readouterr().out
    )

    # Without its sidecar the private model cannot be used: a one-line error, nothing sent.
    sidecar.unlink()
    block = chain.block_number()
    assert main(["register-model", "--sensitive-layer", "2", "--config", str(config)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no commitment sidecar" in err
    assert chain.block_number() == block
    assert main(["register-model", "--out", "x", "--config", str(config)]) == EXIT_ERROR
    assert "--out goes with --sensitive-layer" in capsys.readouterr().err
    assert main(["register-model", "--sensitive-layer", "9", "--config", str(config)]) == EXIT_ERROR
    assert "layer 9 is not a layer of this 3-layer model" in capsys.readouterr().err
