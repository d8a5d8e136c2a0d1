"""
Adversarial setups (proof-design §8.8, §6.4 P7): a deliberately wrong ``[τ]₂`` makes every honest
proof fail; the setup id is bound into every proof; the pinned ``SETUP_ID`` is the file's hash and
the loader refuses a file with another ``[τ]₂``; the verifier contract's constants are the file's.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from py_arkworks_bls12381 import G2Point

from protocol.requant import Activation, requant_array
from protocol.types import to_address
from sumkzg.curve import encode_g1, g2_encode, g2_generator, g2_mul
from sumkzg.errors import OpeningRejected, ProofRejected, SetupError
from sumkzg.field import R
from sumkzg.inference import prove_inference, verify_inference
from sumkzg.registration import commit_weights, prove_registration, verify_registration
from sumkzg.setup import (
    SETUP_ID,
    Setup,
    check_setup_structure,
    default_setup_path,
    load_setup,
    toy_setup_for_tests,
)
from sumkzg.statement import InferenceStatement, RegistrationStatement

REPO = Path(__file__).resolve().parents[3]
VERIFIER = to_address("0x" + "cd" * 20)
TOY_TAU = 0x1234_5678_9ABC_DEF0
OTHER_TAU = 0x0FED_CBA9_8765_4321


@dataclass(frozen=True)
class Proofs:
    """An honest registration and inference proof, with their statements."""

    registration: RegistrationStatement
    registration_proof: bytes
    inference: InferenceStatement
    inference_proof: bytes


def honest_proofs(setup: Setup, seed: int = 1) -> Proofs:
    rng = np.random.default_rng(seed)
    m, n = 5, 4
    weights = rng.integers(-128, 128, size=(m, n), dtype=np.int64).astype(np.int8)
    biases = rng.integers(-3000, 3000, size=m).astype(np.int32)
    x = rng.integers(-128, 128, size=n, dtype=np.int64).astype(np.int8)
    multiplier, shift = 300, 14
    commitment = commit_weights(setup, weights, biases, rng=random.Random(seed))
    registration = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=commitment.h_w, m=m, n=n
    )
    z = weights.astype(np.int64) @ x.astype(np.int64) + biases
    y = requant_array(z, multiplier, shift, Activation.RELU)
    inference = InferenceStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=b"\x42" * 32,
        partition_index=2,
        h_w=commitment.h_w,
        multiplier=multiplier,
        shift=shift,
        activation=int(Activation.RELU),
        x=x,
        y=y,
        job_id=99,
    )
    return Proofs(
        registration=registration,
        registration_proof=prove_registration(setup, commitment, weights, biases, registration),
        inference=inference,
        inference_proof=prove_inference(setup, commitment, weights, biases, inference),
    )


def with_h1(setup: Setup, h1: G2Point) -> Setup:
    """``setup`` with another ``[τ]₂`` (same G1 points and id)."""
    return Setup(g1=setup.g1, h0=setup.h0, h1=h1, setup_id=setup.setup_id)


def assert_both_rejected(setup: Setup, proofs: Proofs) -> None:
    with pytest.raises(OpeningRejected):
        verify_registration(setup, proofs.registration, proofs.registration_proof)
    with pytest.raises(OpeningRejected):
        verify_inference(setup, proofs.inference, proofs.inference_proof)


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def proofs(setup: Setup) -> Proofs:
    return honest_proofs(setup)


def test_honest_proofs_verify(setup: Setup, proofs: Proofs) -> None:
    verify_registration(setup, proofs.registration, proofs.registration_proof)
    verify_inference(setup, proofs.inference, proofs.inference_proof)


@pytest.mark.parametrize("which", ["random", "one", "negated", "doubled", "scaled"])
def test_wrong_tau2_rejects_every_honest_proof(setup: Setup, proofs: Proofs, which: str) -> None:
    """The real G1 powers with a wrong ``[τ]₂``: the pairing check of every opening fails."""
    factor = {
        "random": None,
        "one": None,
        "negated": R - 1,  # −τ
        "doubled": 2,  # 2τ
        "scaled": OTHER_TAU,  # c·τ
    }[which]
    if which == "random":
        h1 = g2_mul(g2_generator(), random.Random(4).randrange(2, R))
    elif which == "one":
        h1 = g2_generator()  # τ = 1
    else:
        assert factor is not None
        h1 = g2_mul(setup.h1, factor)
    bad = with_h1(setup, h1)
    assert_both_rejected(bad, proofs)
    with pytest.raises(SetupError):
        check_setup_structure(bad)  # and the loader's structure check would have refused it


@pytest.mark.slow
def test_toy_setup_with_another_tau_for_h1() -> None:
    """Proofs made under ``toy(τ)`` verify there and fail once ``H1 = [τ']₂`` with ``τ' ≠ τ``."""
    toy = toy_setup_for_tests(TOY_TAU)
    proofs = honest_proofs(toy, seed=2)
    verify_registration(toy, proofs.registration, proofs.registration_proof)
    verify_inference(toy, proofs.inference, proofs.inference_proof)
    assert_both_rejected(with_h1(toy, toy_setup_for_tests(OTHER_TAU, size=1).h1), proofs)


def test_setup_id_is_bound_into_every_proof(setup: Setup, proofs: Proofs) -> None:
    """Same points, another id: the statements' transcripts differ, so the proofs fail."""
    renamed = Setup(g1=setup.g1, h0=setup.h0, h1=setup.h1, setup_id=bytes(32))
    with pytest.raises(ProofRejected):
        verify_registration(renamed, proofs.registration, proofs.registration_proof)
    with pytest.raises(ProofRejected):
        verify_inference(renamed, proofs.inference, proofs.inference_proof)
    assert proofs.inference.to_bytes(SETUP_ID) != proofs.inference.to_bytes(bytes(32))
    assert SETUP_ID in proofs.inference.to_bytes(SETUP_ID)
    assert SETUP_ID in proofs.registration.to_bytes(SETUP_ID)


def test_pinned_setup_id_is_the_file_hash(setup: Setup) -> None:
    raw = default_setup_path().read_bytes()
    assert hashlib.sha256(raw).digest() == SETUP_ID == setup.setup_id


def test_a_file_with_another_tau2_is_refused(setup: Setup, tmp_path: Path) -> None:
    """Replace the ``[τ]₂`` line of the file with a valid ``[τ']₂``: the loader refuses it."""
    lines = default_setup_path().read_text().splitlines(keepends=True)
    h1_line = 2 + 4096 + 1
    assert bytes.fromhex(lines[h1_line].strip()) == setup.h1.to_compressed_bytes()
    lines[h1_line] = g2_mul(g2_generator(), OTHER_TAU).to_compressed_bytes().hex() + "\n"
    forged = tmp_path / "trusted_setup.txt"
    forged.write_text("".join(lines))
    with pytest.raises(SetupError, match="sha256"):
        load_setup(forged)


# --------------------------------------------------------------------------------------------------
# The verifier contract holds G[0], H0, H1 and SETUP_ID as constants (§2)

BLS_SOL = REPO / "contracts/src/verifier/Bls12381.sol"
VERIFIER_SOL = REPO / "contracts/src/verifier/SumKzgVerifier.sol"


def _sol_point(text: str, prefix: str, parts: list[str]) -> bytes | None:
    """Concatenate ``{prefix}_{part}_HI``/``_LO`` constants as 64-byte coordinates."""
    out = b""
    for part in parts:
        words = []
        for half in ("HI", "LO"):
            found = re.search(rf"\b{prefix}_{part}_{half}\s*=\s*(0x[0-9a-fA-F]+)", text)
            if found is None:
                return None
            words.append(int(found.group(1), 16))
        out += (words[0] << 256 | words[1]).to_bytes(64, "big")
    return out


def test_contract_constants_are_the_file_points(setup: Setup) -> None:
    if not BLS_SOL.exists() or not VERIFIER_SOL.exists():
        pytest.skip("the verifier contract is not there yet")
    text = BLS_SOL.read_text()
    g0 = _sol_point(text, "G0", ["X", "Y"])
    h0 = _sol_point(text, "H0", ["X0", "X1", "Y0", "Y1"])
    h1 = _sol_point(text, "H1", ["X0", "X1", "Y0", "Y1"])
    if g0 is None or h0 is None or h1 is None:
        pytest.skip("Bls12381.sol does not hold the constants under the expected names")
    assert g0 == encode_g1(setup.g1[0])
    assert h0 == g2_encode(setup.h0)
    assert h1 == g2_encode(setup.h1)
    found = re.search(r"SETUP_ID\s*=\s*(0x[0-9a-fA-F]{64})", VERIFIER_SOL.read_text())
    assert found is not None
    assert bytes.fromhex(found.group(1)[2:]) == SETUP_ID
