"""
The Solidity SumKZG verifier (v2, docs/proof-system-zk.md) against the Python prover and verifier,
on a real Anvil chain.

Every proof here is made by :mod:`sumkzg` for the deployed verifier's address and Anvil's chain
id (31337), registered with ``registerCommitment`` and checked with ``verifyPartitionProof``. For
a list of mutated proofs (both kinds), tampered statements and the degenerate cases of Z10 built by
editing bytes, the Python verifier (:func:`verify_inference` / :func:`verify_registration` raising
:class:`ProofRejected`) and the contract (returning false / reverting) must agree on every case.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from eth_abi.abi import encode
from web3.contract import Contract

from opzk.chain import reverting_as_opzk
from protocol import errors
from protocol.model_id import LAYER_HEADER_ABI
from protocol.requant import Activation, requant_array
from sumkzg.curve import P, encode_g1, g1_generator, g2_encode
from sumkzg.errors import ProofRejected
from sumkzg.field import R
from sumkzg.inference import prove_inference, verify_inference
from sumkzg.registration import (
    WeightCommitment,
    commit_weights,
    prove_registration,
    verify_registration,
)
from sumkzg.setup import SETUP_ID, Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

ANVIL_CHAIN_ID = 31337
FOLDS = 11
LOG_D = 12
GAS_TARGET_256 = 900_000
"""verifyPartitionProof's budget for 256×256 (transaction gas: 21000 + calldata + execution)."""
INFINITY = bytes(128)


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


# --------------------------------------------------------------------------------------------------
# A layer, its commitment and proofs


@dataclass
class Layer:
    """One QLinear layer with everything needed to prove about it."""

    weights: npt.NDArray[np.int8]
    biases: npt.NDArray[np.int64]
    x: npt.NDArray[np.int8]
    multiplier: int
    shift: int
    activation: int
    commitment: WeightCommitment

    @property
    def m(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n(self) -> int:
        return int(self.weights.shape[1])

    def y(self) -> npt.NDArray[np.int8]:
        z = self.weights.astype(np.int64) @ self.x.astype(np.int64) + self.biases
        return requant_array(z, self.multiplier, self.shift, Activation(self.activation))


def make_layer(setup: Setup, m: int, n: int, activation: int, seed: int, shift: int = 16) -> Layer:
    """Random int8 weights, int32-range biases and input; M chosen so that some outputs saturate."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, size=(m, n), dtype=np.int64).astype(np.int8)
    biases = rng.integers(-(2**20), 2**20, size=(m,), dtype=np.int64)
    x = rng.integers(-128, 128, size=(n,), dtype=np.int64).astype(np.int8)
    z = weights.astype(np.int64) @ x.astype(np.int64) + biases
    multiplier = min(2**31 - 1, int(200 * 2**shift // max(1, int(np.abs(z).max()))) + 1)
    commitment = commit_weights(setup, weights, biases, rng=random.Random(seed))
    return Layer(weights, biases, x, multiplier, shift, activation, commitment)


def inference_statement(
    layer: Layer,
    verifier: str,
    *,
    chain_id: int = ANVIL_CHAIN_ID,
    job_id: int = 0xA11CE,
    model_id: bytes = b"\x42" * 32,
    partition_index: int = 1,
) -> InferenceStatement:
    return InferenceStatement.from_values(
        chain_id=chain_id,
        verifier=verifier,
        model_id=model_id,
        partition_index=partition_index,
        h_w=layer.commitment.h_w,
        multiplier=layer.multiplier,
        shift=layer.shift,
        activation=layer.activation,
        x=layer.x,
        y=layer.y(),
        job_id=job_id,
    )


def registration_proof(setup: Setup, layer: Layer, verifier: str) -> bytes:
    statement = RegistrationStatement(
        chain_id=ANVIL_CHAIN_ID, verifier=verifier, h_w=layer.commitment.h_w, m=layer.m, n=layer.n
    )
    return prove_registration(setup, layer.commitment, layer.weights, layer.biases, statement)


def inference_proof(setup: Setup, layer: Layer, statement: InferenceStatement) -> bytes:
    return prove_inference(setup, layer.commitment, layer.weights, layer.biases, statement)


def onchain_statement(s: InferenceStatement, setup_id: bytes = SETUP_ID) -> tuple[Any, ...]:
    """The PartitionStatement tuple ProofDemandGame would pass for ``s``."""
    header = (s.n, s.m, s.multiplier, s.shift, s.activation)
    return (
        s.model_id,
        s.partition_index,
        s.h_w,
        setup_id,
        encode([f"{LAYER_HEADER_ABI}[]"], [[header]]),
        s.x,
        s.y,
        s.job_id.to_bytes(32, "big"),
    )


# --------------------------------------------------------------------------------------------------
# The chain side


def deploy_verifier(chain: ChainEnv) -> Contract:
    compiled = chain.compiled["SumKzgVerifier"]
    address, _ = chain.deployer.deploy(compiled.abi, compiled.bytecode)
    return chain.deployer.contract(address, compiled.abi)


def register(chain: ChainEnv, verifier: Contract, layer: Layer, proof: bytes) -> int:
    """Registers ``proof``; returns the transaction's gas used."""
    receipt = chain.owner.send(verifier.functions.registerCommitment(layer.m, layer.n, proof))
    (event,) = chain.events(verifier, "CommitmentRegistered", receipt)
    assert bytes(event["weightCommitment"]) == layer.commitment.h_w
    assert (event["m"], event["n"]) == (layer.m, layer.n)
    assert event["registrant"] == chain.owner.address
    return int(receipt["gasUsed"])


def onchain_registration_verdict(
    chain: ChainEnv, verifier: Contract, m: int, n: int, proof: bytes
) -> bool:
    """
    Whether ``registerCommitment(m, n, proof)`` succeeds (an ``eth_call``); a refusal must be one
    of the verifier's custom errors.
    """
    call = verifier.functions.registerCommitment(m, n, proof)
    try:
        reverting_as_opzk(lambda: call.call({"from": chain.owner.address}))
    except (errors.InvalidRegistrationProof, errors.WrongProofLength):
        return False
    return True


def python_registration_verdict(
    setup: Setup, statement: RegistrationStatement, proof: bytes
) -> bool:
    try:
        verify_registration(setup, statement, proof)
    except ProofRejected:
        return False
    return True


def onchain_verdict(verifier: Contract, statement: tuple[Any, ...], proof: bytes) -> bool:
    return bool(verifier.functions.verifyPartitionProof(statement, proof).call())


def python_verdict(setup: Setup, statement: InferenceStatement, proof: bytes) -> bool:
    try:
        verify_inference(setup, statement, proof)
    except ProofRejected:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Proof byte surgery (docs/proof-system-zk.md Z9)


@dataclass(frozen=True)
class Sections:
    """
    Byte offsets of a proof's sections (Z9). Inference: ``C_W[K_W] ‖ C_Limb[K_L] ‖ C_Mu ‖ C_R ‖
    C_Lib ‖ C_Mk ‖ Γ ‖ C_H[K_L] ‖ …``; registration: ``C_W[K_W] ‖ C_BL[K_B] ‖ C_Mu ‖ C_Lib ‖ C_Mk ‖
    Γ ‖ C_HW[K_HW] ‖ C_HB[K_B] ‖ …`` (``c_limb`` is then C_BL's offset and ``c_r`` is ``None``);
    both end ``sumcheck[ℓ][4] ‖ evals[P + 2] ‖ C_A ‖ C_Q ‖ folds[d−1] ‖ foldEvals[d][3] ‖
    libraEvals[4] ‖ W[4]``.
    """

    c_limb: int
    c_mu: int
    c_r: int | None
    c_lib: int
    c_mk: int
    gamma: int
    round2: int
    sumcheck: int
    evals: int
    n_evals: int
    c_a: int
    c_q: int
    folds: int
    fold_evals: int
    libra_evals: int
    witnesses: int
    end: int

    @staticmethod
    def _tail(c_limb: int, k_1: int, has_r: bool, k_2: int, ell: int, n_evals: int) -> Sections:
        c_mu = c_limb + 128 * k_1
        c_r = c_mu + 128 if has_r else None
        c_lib = c_mu + (256 if has_r else 128)
        gamma = c_lib + 256
        round2 = gamma + 32
        sumcheck = round2 + 128 * k_2
        evals = sumcheck + 128 * ell
        c_a = evals + 32 * n_evals
        folds = c_a + 256
        fold_evals = folds + 128 * FOLDS
        libra_evals = fold_evals + 32 * 3 * LOG_D
        witnesses = libra_evals + 128
        return Sections(
            c_limb, c_mu, c_r, c_lib, c_lib + 128, gamma, round2, sumcheck, evals, n_evals,
            c_a, c_a + 128, folds, fold_evals, libra_evals, witnesses, witnesses + 512,
        )  # fmt: skip

    @staticmethod
    def of(statement: InferenceStatement) -> Sections:
        layout = statement.layout
        shape = layout.shape
        return Sections._tail(128 * shape.k_w, layout.k_l, True, layout.k_l, shape.ell, 6)

    @staticmethod
    def of_registration(statement: RegistrationStatement) -> Sections:
        shape = statement.layout
        return Sections._tail(
            128 * shape.k_w, shape.k_b, False, shape.k_hw + shape.k_b, shape.ell, 7
        )


def with_word(proof: bytes, offset: int, value: int) -> bytes:
    return proof[:offset] + value.to_bytes(32, "big") + proof[offset + 32 :]


def word(proof: bytes, offset: int) -> int:
    return int.from_bytes(proof[offset : offset + 32], "big")


def with_point(proof: bytes, offset: int, point: bytes) -> bytes:
    return proof[:offset] + point + proof[offset + 128 :]


def with_byte(proof: bytes, offset: int, value: int) -> bytes:
    return proof[:offset] + bytes([value]) + proof[offset + 1 :]


def plus_one(proof: bytes, offset: int) -> bytes:
    return with_word(proof, offset, (word(proof, offset) + 1) % R)


def coordinate_plus_p(proof: bytes, offset: int) -> bytes:
    value = int.from_bytes(proof[offset : offset + 64], "big") + P
    return proof[:offset] + value.to_bytes(64, "big") + proof[offset + 64 :]


def degenerate_cases(proof: bytes, s: Sections) -> dict[str, bytes]:
    """
    Z10's degenerate points, by editing bytes: each mask commitment at infinity (``ρ_L = 0``,
    ``u_ℓ(1 − u_ℓ) = 0``, ``β = 0`` and ``β^N = 1`` are challenges, not constructible here).
    """
    cases = {
        "C_Lib := infinity": with_point(proof, s.c_lib, INFINITY),
        "C_Mk := infinity": with_point(proof, s.c_mk, INFINITY),
        "C_A := infinity": with_point(proof, s.c_a, INFINITY),
        "C_Q := infinity": with_point(proof, s.c_q, INFINITY),
    }
    if s.c_r is not None:
        cases["C_R := infinity"] = with_point(proof, s.c_r, INFINITY)
    return cases


def proof_mutations(proof: bytes, s: Sections) -> dict[str, bytes]:
    """Named mutations of a valid proof of either kind; every one must be refused."""
    assert len(proof) == s.end
    generator = encode_g1(g1_generator())
    last = s.n_evals - 1
    cases = {
        "Γ + 1": plus_one(proof, s.gamma),
        "Γ + r (non-canonical)": with_word(proof, s.gamma, word(proof, s.gamma) + R),
        "sumcheck[0][0] + 1": plus_one(proof, s.sumcheck),
        "sumcheck[0][3] + 1": plus_one(proof, s.sumcheck + 96),
        "sumcheck[last][2] + 1": plus_one(proof, s.evals - 64),
        "evals[0] + 1": plus_one(proof, s.evals),
        "M̃k(u_lo) + 1": plus_one(proof, s.evals + 32 * (last - 1)),
        "s_G + 1": plus_one(proof, s.evals + 32 * last),
        "s_G + r (non-canonical)": with_word(
            proof, s.evals + 32 * last, word(proof, s.evals + 32 * last) + R
        ),
        "last fold eval + 1": plus_one(proof, s.libra_evals - 32),
        "fold eval[0] + 1": plus_one(proof, s.fold_evals),
        "Lib̂(β) + 1": plus_one(proof, s.libra_evals),
        "Â(β) + 1": plus_one(proof, s.libra_evals + 32),
        "Q̂(β) + 1": plus_one(proof, s.libra_evals + 64),
        "Â(ωβ) + 1": plus_one(proof, s.libra_evals + 96),
        "Â(ωβ) + r (non-canonical)": with_word(
            proof, s.libra_evals + 96, word(proof, s.libra_evals + 96) + R
        ),
        "evals[0] + r (non-canonical)": with_word(proof, s.evals, word(proof, s.evals) + R),
        "sumcheck[0][1] + r (non-canonical)": with_word(
            proof, s.sumcheck + 32, word(proof, s.sumcheck + 32) + R
        ),
        "scalar 2^256 - 1": with_word(proof, s.fold_evals + 64, 2**256 - 1),
        "C_W[0] := G": with_point(proof, 0, generator),
        "C_Limb[0] / C_BL[0] := G": with_point(proof, s.c_limb, generator),
        "C_Mu := G": with_point(proof, s.c_mu, generator),
        "C_Lib := G": with_point(proof, s.c_lib, generator),
        "C_Mk := G": with_point(proof, s.c_mk, generator),
        "C_Lib ↔ C_Mk": with_point(
            with_point(proof, s.c_lib, proof[s.c_mk : s.c_mk + 128]),
            s.c_mk,
            proof[s.c_lib : s.c_lib + 128],
        ),
        "round 2 [last] := G": with_point(proof, s.sumcheck - 128, generator),
        "C_A := G": with_point(proof, s.c_a, generator),
        "C_Q := G": with_point(proof, s.c_q, generator),
        "C_A ↔ C_Q": with_point(
            with_point(proof, s.c_a, proof[s.c_q : s.c_q + 128]),
            s.c_q,
            proof[s.c_a : s.c_a + 128],
        ),
        "fold[0] := G": with_point(proof, s.folds, generator),
        "fold[last] := infinity": with_point(proof, s.fold_evals - 128, INFINITY),
        "W[0] := G": with_point(proof, s.witnesses, generator),
        "W[2] := W[1]": with_point(
            proof, s.witnesses + 256, proof[s.witnesses + 128 : s.witnesses + 256]
        ),
        "W[3] := G": with_point(proof, s.witnesses + 384, generator),
        "W[3] := infinity": with_point(proof, s.witnesses + 384, INFINITY),
        "padding byte in fold[1].x": with_byte(proof, s.folds + 128 + 5, 0x01),
        "padding byte in W[0].y": with_byte(proof, s.witnesses + 64 + 15, 0x01),
        "padding byte in C_Mk.x": with_byte(proof, s.c_mk + 3, 0x01),
        "W[1].y + p": coordinate_plus_p(proof, s.witnesses + 128 + 64),
        "C_A.x + p": coordinate_plus_p(proof, s.c_a),
        "fold[2] off the curve": with_byte(proof, s.folds + 256 + 127, proof[s.folds + 383] ^ 1),
        "C_Q off the curve": with_byte(proof, s.c_q + 127, proof[s.c_q + 127] ^ 1),
        "truncated by one byte": proof[:-1],
        "extended by one byte": proof + b"\x00",
        "extended by a word": proof + bytes(32),
        "empty": b"",
    }
    if s.c_r is not None:
        cases["C_R := G"] = with_point(proof, s.c_r, generator)
        cases["C_R ↔ C_Lib"] = with_point(
            with_point(proof, s.c_r, proof[s.c_lib : s.c_lib + 128]),
            s.c_lib,
            proof[s.c_r : s.c_r + 128],
        )
    return cases


def statement_tamperings(
    statement: InferenceStatement,
) -> dict[str, InferenceStatement]:
    """Named statements that differ from the proven one; every one must be refused."""
    replace = dataclasses.replace
    y, x = bytearray(statement.y), bytearray(statement.x)
    cases: dict[str, InferenceStatement] = {}
    relu = statement.activation == 1
    for i in (0, len(y) // 2, len(y) - 1):
        for delta in (1, -1):
            value = (y[i] + delta) % 256
            if relu and value > 127:
                continue  # not an admissible relu statement (the statement refuses it)
            changed = bytearray(y)
            changed[i] = value
            cases[f"y[{i}] {delta:+d}"] = replace(statement, y=bytes(changed))
    # The first and last x_j, and the x_j on both sides of the first weight chunk boundary
    # (data columns g−1 and g: the blinding column of chunk 0 lies between them).
    g = statement.layout.shape.g
    for j in sorted({0, len(x) - 1, *(j for j in (g - 1, g) if j < len(x))}):
        changed = bytearray(x)
        changed[j] = (changed[j] + 1) % 256
        cases[f"x[{j}] + 1"] = replace(statement, x=bytes(changed))
    cases["M + 1"] = replace(statement, multiplier=statement.multiplier + 1)
    cases["k + 1"] = replace(statement, shift=statement.shift + 1)
    cases["job id + 1"] = replace(statement, job_id=statement.job_id + 1)
    cases["model id"] = replace(statement, model_id=bytes(31) + b"\x01")
    cases["partition index + 1"] = replace(statement, partition_index=statement.partition_index + 1)
    if relu or all(b <= 127 for b in statement.y):
        cases["activation flipped"] = replace(statement, activation=1 - statement.activation)
    return cases


# --------------------------------------------------------------------------------------------------
# Tests


def test_setup_points_are_the_files(chain: ChainEnv, setup: Setup) -> None:
    verifier = deploy_verifier(chain)
    g0, h0, h1 = verifier.functions.setupPoints().call()
    assert bytes(g0) == encode_g1(setup.g1[0])
    assert bytes(h0) == g2_encode(setup.h0)
    assert bytes(h1) == g2_encode(setup.h1)
    assert bytes(verifier.functions.SETUP_ID().call()) == SETUP_ID == setup.setup_id


@pytest.mark.parametrize(
    ("m", "n", "activation", "shift"),
    [
        (5, 7, 1, 12),
        (32, 64, 1, 16),
        (9, 3, 0, 20),
        (1, 1, 1, 1),
        (3, 30, 0, 62),
        (64, 64, 1, 16),
        (256, 256, 0, 24),
        # Many weight chunks, each with its own blinding column (docs/proof-system.md §4), with
        # 64, 8, 2 and 4096 columns per chunk.
        (64, 200, 1, 16),
        (300, 40, 0, 20),
        (2048, 5, 1, 16),
        (1, 4000, 0, 24),
        # Several limb chunks, each with its own free column (docs/proof-system-zk.md Z1, Z2):
        # m' = 512 (K_L = 2), 1024 (K_L = 4, K_B = 2), 2048 (K_L = 10, K_B = 4, n' = 32).
        (300, 8, 1, 13),
        (600, 4, 0, 13),
        (1100, 3, 1, 13),
    ],
)
def test_python_proofs_verify_onchain(
    chain: ChainEnv, setup: Setup, m: int, n: int, activation: int, shift: int
) -> None:
    verifier = deploy_verifier(chain)
    layer = make_layer(setup, m, n, activation, seed=m * 1000 + n, shift=shift)
    reg = registration_proof(setup, layer, verifier.address)
    header = encode([f"{LAYER_HEADER_ABI}[]"], [[(n, m, layer.multiplier, shift, activation)]])
    assert verifier.functions.isWellFormed(layer.commitment.h_w, SETUP_ID, header).call() is False
    reg_gas = register(chain, verifier, layer, reg)
    assert verifier.functions.isWellFormed(layer.commitment.h_w, SETUP_ID, header).call() is True
    print(f"\nregisterCommitment {m}x{n}: gas used {reg_gas}, proof {len(reg)} B")

    statement = inference_statement(layer, verifier.address)
    proof = inference_proof(setup, layer, statement)
    verify_inference(setup, statement, proof)
    onchain = onchain_statement(statement)
    assert onchain_verdict(verifier, onchain, proof) is True
    call = verifier.functions.verifyPartitionProof(onchain, proof)
    gas = call.estimate_gas({"from": chain.node.address})
    # The same call as a transaction (a view function can be sent): what it actually uses.
    used = int(chain.node.send(call, gas=gas)["gasUsed"])
    print(
        f"verifyPartitionProof {m}x{n} (k={shift}): estimate_gas {gas}, gas used {used}, "
        f"proof {len(proof)} B"
    )
    if (m, n) == (256, 256):
        assert gas <= GAS_TARGET_256


@pytest.mark.parametrize(
    ("m", "n", "activation"),
    # The multi-chunk shapes cover both ways the verifier sums x′ (docs/proof-system.md §5): low
    # blocks of whole chunk groups (cpc <= 2^a: 200×30, 1000×7, 2048×3) and chunks of several
    # low blocks (64×200).
    [(6, 10, 1), (7, 5, 0), (64, 64, 1), (64, 200, 1), (200, 30, 0), (1000, 7, 0), (2048, 3, 1)],
)
def test_python_and_solidity_agree_on_every_mutation(
    chain: ChainEnv, setup: Setup, m: int, n: int, activation: int
) -> None:
    _agree_on_every_mutation(chain, setup, make_layer(setup, m, n, activation, seed=7 * m + n))


@pytest.mark.parametrize(
    ("m", "n", "activation", "shift"),
    # Limb layouts of several chunks with a free column each (docs/proof-system-zk.md Z1, Z2):
    # m' = 512 and 1024 with L = 10 and L = 9 limbs (posL(t) = t + ⌊t/g⌋ past the first chunk).
    [(300, 8, 1, 13), (600, 4, 0, 13), (600, 4, 1, 16)],
)
def test_large_limb_layouts_agree_on_every_mutation(
    chain: ChainEnv, setup: Setup, m: int, n: int, activation: int, shift: int
) -> None:
    layer = make_layer(setup, m, n, activation, seed=5 * m + n, shift=shift)
    _agree_on_every_mutation(chain, setup, layer)


def _agree_on_every_mutation(chain: ChainEnv, setup: Setup, layer: Layer) -> None:
    verifier = deploy_verifier(chain)
    register(chain, verifier, layer, registration_proof(setup, layer, verifier.address))
    statement = inference_statement(layer, verifier.address)
    proof = inference_proof(setup, layer, statement)
    onchain = onchain_statement(statement)

    verdicts: dict[str, tuple[bool, bool]] = {
        "valid": (
            python_verdict(setup, statement, proof),
            onchain_verdict(verifier, onchain, proof),
        )
    }
    sections = Sections.of(statement)
    mutations = proof_mutations(proof, sections)
    assert len(mutations) >= 30
    for name, mutated in (mutations | degenerate_cases(proof, sections)).items():
        verdicts[f"proof: {name}"] = (
            python_verdict(setup, statement, mutated),
            onchain_verdict(verifier, onchain, mutated),
        )
    for name, tampered in statement_tamperings(statement).items():
        verdicts[f"statement: {name}"] = (
            python_verdict(setup, tampered, proof),
            onchain_verdict(verifier, onchain_statement(tampered), proof),
        )
    assert verdicts.pop("valid") == (True, True)
    disagreements = {k: v for k, v in verdicts.items() if v[0] != v[1]}
    assert disagreements == {}, disagreements
    accepted = {k for k, v in verdicts.items() if v[1]}
    assert accepted == set(), accepted
    assert len(verdicts) >= 30


def test_proofs_are_bound_to_chain_and_verifier(chain: ChainEnv, setup: Setup) -> None:
    verifier = deploy_verifier(chain)
    other = deploy_verifier(chain)
    layer = make_layer(setup, 4, 9, 1, seed=99)
    register(chain, verifier, layer, registration_proof(setup, layer, verifier.address))
    register(chain, other, layer, registration_proof(setup, layer, other.address))
    statement = inference_statement(layer, verifier.address)
    proof = inference_proof(setup, layer, statement)
    onchain = onchain_statement(statement)
    assert onchain_verdict(verifier, onchain, proof)

    # The same statement at the other verifier: Python with verifier = other, the other contract.
    at_other = dataclasses.replace(statement, verifier=other.address)
    assert python_verdict(setup, at_other, proof) is False
    assert onchain_verdict(other, onchain, proof) is False

    # A proof made for another chain id: valid there (Python), refused here (both).
    foreign = inference_statement(layer, verifier.address, chain_id=ANVIL_CHAIN_ID + 1)
    foreign_proof = inference_proof(setup, layer, foreign)
    assert python_verdict(setup, foreign, foreign_proof) is True
    assert python_verdict(setup, statement, foreign_proof) is False
    assert onchain_verdict(verifier, onchain, foreign_proof) is False

    # Another setup id or weight commitment in the on-chain statement: refused.
    assert onchain_verdict(verifier, onchain_statement(statement, b"\x01" * 32), proof) is False
    wrong_hw = dataclasses.replace(statement, h_w=bytes(32))
    assert python_verdict(setup, wrong_hw, proof) is False
    assert onchain_verdict(verifier, onchain_statement(wrong_hw), proof) is False


def test_registration_agrees_and_reverts_with_the_right_error(
    chain: ChainEnv, setup: Setup
) -> None:
    verifier = deploy_verifier(chain)
    layer = make_layer(setup, 5, 7, 0, seed=5)
    proof = registration_proof(setup, layer, verifier.address)
    statement = RegistrationStatement(
        chain_id=ANVIL_CHAIN_ID, verifier=verifier.address, h_w=layer.commitment.h_w, m=5, n=7
    )
    verify_registration(setup, statement, proof)
    sections = Sections.of_registration(statement)
    generator = encode_g1(g1_generator())
    invalid = errors.InvalidRegistrationProof
    cases: list[tuple[str, int, int, bytes, type[errors.ContractError]]] = [
        ("sumcheck[0][0] + 1", 5, 7, plus_one(proof, sections.sumcheck), invalid),
        ("C_BL := G", 5, 7, with_point(proof, sections.c_limb, generator), invalid),
        ("C_Mk := infinity", 5, 7, with_point(proof, sections.c_mk, INFINITY), invalid),
        ("n - 1", 5, 6, proof, invalid),
        ("truncated", 5, 7, proof[:-1], errors.WrongProofLength),
        ("extended", 5, 7, proof + b"\x00", errors.WrongProofLength),
    ]  # fmt: skip
    for name, m, n, mutated, error in cases:
        try:
            tampered = dataclasses.replace(statement, m=m, n=n)
            verify_registration(setup, tampered, mutated)
        except ProofRejected:
            pass
        else:
            pytest.fail(f"Python accepted {name}")
        with pytest.raises(error):
            chain.owner.send(verifier.functions.registerCommitment(m, n, mutated))
    with pytest.raises(errors.UnsupportedShape):
        chain.owner.send(verifier.functions.registerCommitment(0, 7, proof))
    # Nothing was recorded; the honest proof still registers.
    header = encode([f"{LAYER_HEADER_ABI}[]"], [[(7, 5, layer.multiplier, layer.shift, 0)]])
    assert verifier.functions.isWellFormed(layer.commitment.h_w, SETUP_ID, header).call() is False
    register(chain, verifier, layer, proof)
    assert verifier.functions.isWellFormed(layer.commitment.h_w, SETUP_ID, header).call() is True


@pytest.mark.parametrize(("m", "n"), [(5, 7), (64, 200), (600, 3), (1100, 2)])
def test_registration_python_and_solidity_agree_on_every_mutation(
    chain: ChainEnv, setup: Setup, m: int, n: int
) -> None:
    verifier = deploy_verifier(chain)
    layer = make_layer(setup, m, n, 1, seed=11 * m + n)
    proof = registration_proof(setup, layer, verifier.address)
    statement = RegistrationStatement(
        chain_id=ANVIL_CHAIN_ID, verifier=verifier.address, h_w=layer.commitment.h_w, m=m, n=n
    )
    sections = Sections.of_registration(statement)
    mutations = proof_mutations(proof, sections)
    assert len(mutations) >= 30
    verdicts = {
        name: (
            python_registration_verdict(setup, statement, mutated),
            onchain_registration_verdict(chain, verifier, m, n, mutated),
        )
        for name, mutated in (mutations | degenerate_cases(proof, sections)).items()
    }
    # Statement tampering: another n (same length when the chunk counts agree), another chain
    # id or verifier address in Python's statement (the contract binds its own).
    verdicts["statement: n - 1"] = (
        python_registration_verdict(setup, dataclasses.replace(statement, n=n - 1), proof),
        onchain_registration_verdict(chain, verifier, m, n - 1, proof),
    )
    other = deploy_verifier(chain)
    verdicts["statement: other verifier"] = (
        python_registration_verdict(
            setup, dataclasses.replace(statement, verifier=other.address), proof
        ),
        onchain_registration_verdict(chain, other, m, n, proof),
    )
    disagreements = {k: v for k, v in verdicts.items() if v[0] != v[1]}
    assert disagreements == {}, disagreements
    accepted = {k for k, v in verdicts.items() if v[1]}
    assert accepted == set(), accepted
    # The honest proof is accepted by both.
    assert python_registration_verdict(setup, statement, proof)
    assert onchain_registration_verdict(chain, verifier, m, n, proof)


def test_model_registry_consults_the_verifier(chain: ChainEnv, setup: Setup) -> None:
    verifier = deploy_verifier(chain)
    layer = make_layer(setup, 3, 4, 1, seed=3)
    header = (layer.n, layer.m, layer.multiplier, layer.shift, layer.activation)
    partition = (1, 1, True, layer.commitment.h_w, SETUP_ID)
    args = ([header], [bytes(32)], [partition], [verifier.address])

    def register_model() -> Any:
        return chain.owner.send(chain.registry.functions.registerModel(*args))

    with pytest.raises(errors.CommitmentNotWellFormed) as info:
        register_model()
    assert info.value.values == {"partition": 0}
    register(chain, verifier, layer, registration_proof(setup, layer, verifier.address))
    receipt = register_model()
    (event,) = chain.events(chain.registry, "ModelRegistered", receipt)
    assert event["partitions"] == 1
