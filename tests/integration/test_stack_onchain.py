"""
The Solidity SumKzgStackVerifier (docs/proof-system-stack.md) against the Python prover and
verifier (:mod:`sumkzg.stack`), on a real Anvil chain.

For each shape the two matrices ``P`` and ``V`` of the stack are committed and registered with the
single-layer ``SumKzgVerifier`` (``prove_registration`` + ``registerCommitment``), the stack is
recorded with ``SumKzgStackVerifier.recordStack``, and a proof made by :func:`prove_stack` for the
stack verifier's address and Anvil's chain id (31337) must verify on both sides. For the mutated
proofs (every section), tampered statements and the degenerate cases of S8 built by editing
bytes, :func:`verify_stack` (raising :class:`ProofRejected`) and ``verifyPartitionProof``
(returning false) must agree on every case.
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

from protocol import errors
from protocol.model_id import LAYER_HEADER_ABI
from protocol.requant import Activation, requant_array
from sumkzg.curve import P, encode_g1, g1_generator
from sumkzg.errors import ProofRejected
from sumkzg.field import R
from sumkzg.registration import WeightCommitment, commit_weights, prove_registration
from sumkzg.setup import SETUP_ID, Setup, load_setup
from sumkzg.stack import (
    StackLayer,
    StackStatement,
    prove_stack,
    stack_commitment_hash,
    stack_matrices,
    stack_proof_len,
    verify_stack,
)
from sumkzg.statement import RegistrationStatement
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

ANVIL_CHAIN_ID = 31337
FOLDS = 11
LOG_D = 12
INFINITY = bytes(128)
EXTRA_ROWS = 4
DIGITS = (64, 64, 32, 16, 16, 1, 1)
"""The digits demo's hidden pair: 64×64 relu, then 32×64 relu (m1, n1, m2, k1, k2, act1, act2)."""


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


# --------------------------------------------------------------------------------------------------
# A stack, its commitments and proofs


@dataclass
class Stack:
    """Two QLinear layers with everything needed to register and prove them."""

    w1: npt.NDArray[np.int8]
    b1: npt.NDArray[np.int64]
    w2: npt.NDArray[np.int8]
    b2: npt.NDArray[np.int64]
    x: npt.NDArray[np.int8]
    layer1: StackLayer
    layer2: StackLayer
    p: tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]
    v: tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]
    commit_p: WeightCommitment
    commit_v: WeightCommitment

    def y(self) -> npt.NDArray[np.int8]:
        z1 = self.w1.astype(np.int64) @ self.x.astype(np.int64) + self.b1
        a = requant_array(
            z1, self.layer1.multiplier, self.layer1.shift, Activation(self.layer1.activation)
        )
        z2 = self.w2.astype(np.int64) @ a.astype(np.int64) + self.b2
        return requant_array(
            z2, self.layer2.multiplier, self.layer2.shift, Activation(self.layer2.activation)
        )

    def headers(self) -> bytes:
        """abi.encode(LayerHeader[]) of the two layers (inDim, outDim, M, k, activation)."""
        rows = [(lay.n, lay.m, lay.multiplier, lay.shift, lay.activation) for lay in self.layers]
        return encode([f"{LAYER_HEADER_ABI}[]"], [rows])

    @property
    def layers(self) -> tuple[StackLayer, StackLayer]:
        return self.layer1, self.layer2


def _multiplier(z: npt.NDArray[np.int64], shift: int) -> int:
    """M such that the largest |z| maps to about 200: some outputs saturate."""
    return min(2**31 - 1, int(200 * 2**shift // max(1, int(np.abs(z).max()))) + 1)


def make_stack(
    setup: Setup,
    m1: int,
    n1: int,
    m2: int,
    k1: int,
    k2: int,
    act1: int,
    act2: int,
    seed: int,
) -> Stack:
    rng = np.random.default_rng(seed)
    w1 = rng.integers(-128, 128, size=(m1, n1)).astype(np.int8)
    b1 = rng.integers(-(2**20), 2**20, size=(m1,)).astype(np.int64)
    w2 = rng.integers(-128, 128, size=(m2, m1)).astype(np.int8)
    b2 = rng.integers(-(2**20), 2**20, size=(m2,)).astype(np.int64)
    x = rng.integers(-128, 128, size=(n1,)).astype(np.int8)
    z1 = w1.astype(np.int64) @ x.astype(np.int64) + b1
    mult1 = _multiplier(z1, k1)
    a = requant_array(z1, mult1, k1, Activation(act1))
    mult2 = _multiplier(w2.astype(np.int64) @ a.astype(np.int64) + b2, k2)
    p, v = stack_matrices(w1, b1, w2, b2)
    draws = random.Random(seed)
    commit_p = commit_weights(setup, p[0], p[1], rng=draws)
    commit_v = commit_weights(setup, v[0], v[1], rng=draws)
    return Stack(
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        x=x,
        layer1=StackLayer(m1, n1, mult1, k1, act1),
        layer2=StackLayer(m2, m1, mult2, k2, act2),
        p=p,
        v=v,
        commit_p=commit_p,
        commit_v=commit_v,
    )


def stack_statement(
    stack: Stack,
    verifier: str,
    *,
    chain_id: int = ANVIL_CHAIN_ID,
    job_id: int = 0xA11CE,
    model_id: bytes = b"\x42" * 32,
    partition_index: int = 1,
) -> StackStatement:
    return StackStatement.from_values(
        chain_id=chain_id,
        verifier=verifier,
        model_id=model_id,
        partition_index=partition_index,
        h_p=stack.commit_p.h_w,
        h_v=stack.commit_v.h_w,
        layer1=stack.layer1,
        layer2=stack.layer2,
        x=stack.x,
        y=stack.y(),
        job_id=job_id,
    )


def stack_proof(setup: Setup, stack: Stack, statement: StackStatement) -> bytes:
    return prove_stack(
        setup, stack.commit_p, stack.commit_v, stack.w1, stack.b1, stack.w2, stack.b2, statement
    )


def onchain_statement(s: StackStatement, setup_id: bytes = SETUP_ID) -> tuple[Any, ...]:
    """The PartitionStatement tuple ProofDemandGame would pass for ``s``."""
    rows = [
        (lay.n, lay.m, lay.multiplier, lay.shift, lay.activation) for lay in (s.layer1, s.layer2)
    ]
    return (
        s.model_id,
        s.partition_index,
        stack_commitment_hash(s.h_p, s.h_v),
        setup_id,
        encode([f"{LAYER_HEADER_ABI}[]"], [rows]),
        s.x,
        s.y,
        s.job_id.to_bytes(32, "big"),
    )


# --------------------------------------------------------------------------------------------------
# The chain side


def deploy(chain: ChainEnv) -> tuple[Contract, Contract]:
    """A fresh single-layer verifier and a stack verifier over it."""
    base_c = chain.compiled["SumKzgVerifier"]
    base_address, _ = chain.deployer.deploy(base_c.abi, base_c.bytecode)
    stack_c = chain.compiled["SumKzgStackVerifier"]
    address, _ = chain.deployer.deploy(stack_c.abi, stack_c.bytecode, base_address)
    return (
        chain.deployer.contract(base_address, base_c.abi),
        chain.deployer.contract(address, stack_c.abi),
    )


def register_matrices(chain: ChainEnv, setup: Setup, base: Contract, stack: Stack) -> None:
    """Registers P ((m1 + 4) × n1) and V ((m1 + 4) × m2) with the single-layer verifier."""
    rows = stack.layer1.m + EXTRA_ROWS
    for commitment, (w, b), n in (
        (stack.commit_p, stack.p, stack.layer1.n),
        (stack.commit_v, stack.v, stack.layer2.m),
    ):
        statement = RegistrationStatement(
            chain_id=ANVIL_CHAIN_ID, verifier=base.address, h_w=commitment.h_w, m=rows, n=n
        )
        proof = prove_registration(setup, commitment, w, b, statement)
        chain.owner.send(base.functions.registerCommitment(rows, n, proof))


def record(chain: ChainEnv, verifier: Contract, stack: Stack) -> bytes:
    receipt = chain.owner.send(
        verifier.functions.recordStack(stack.commit_p.h_w, stack.commit_v.h_w, stack.headers())
    )
    (event,) = chain.events(verifier, "StackRecorded", receipt)
    h_s = stack_commitment_hash(stack.commit_p.h_w, stack.commit_v.h_w)
    assert bytes(event["weightCommitment"]) == h_s
    assert bytes(event["hP"]) == stack.commit_p.h_w
    assert bytes(event["hV"]) == stack.commit_v.h_w
    return h_s


def onchain_verdict(verifier: Contract, statement: tuple[Any, ...], proof: bytes) -> bool:
    return bool(verifier.functions.verifyPartitionProof(statement, proof).call())


def python_verdict(setup: Setup, statement: StackStatement, proof: bytes) -> bool:
    try:
        verify_stack(setup, statement, proof)
    except ProofRejected:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Proof byte surgery (S7)


@dataclass(frozen=True)
class Sections:
    """
    Byte offsets of a stack proof's sections (S7): ``C_P ‖ C_V ‖ C_Limb1[K_L1] ‖ C_Mu1 ‖ C_Act ‖
    C_Limb2[K_L2] ‖ C_Mu2 ‖ C_R1 ‖ C_R2 ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H1[K_L1] ‖ C_H2[K_L2] ‖
    sumcheck[ℓ][4] ‖ evals[11] ‖ C_A ‖ C_Q ‖ folds ‖ foldEvals ‖ libraEvals[4] ‖ W[4]``.
    """

    c_v: int
    c_limb1: int
    c_mu1: int
    c_act: int
    c_limb2: int
    c_mu2: int
    c_r1: int
    c_r2: int
    c_lib: int
    c_mk: int
    gamma: int
    c_h1: int
    c_h2: int
    sumcheck: int
    evals: int
    c_a: int
    c_q: int
    folds: int
    fold_evals: int
    libra_evals: int
    witnesses: int
    end: int

    @staticmethod
    def of(statement: StackStatement) -> Sections:
        lay = statement.layout
        c_v = 128 * lay.lp.k_w
        c_limb1 = c_v + 128 * lay.lv.k_w
        c_mu1 = c_limb1 + 128 * lay.k_l1
        c_act = c_mu1 + 128
        c_limb2 = c_act + 128
        c_mu2 = c_limb2 + 128 * lay.k_l2
        c_r1 = c_mu2 + 128
        c_lib = c_r1 + 256
        gamma = c_lib + 256
        c_h1 = gamma + 32
        c_h2 = c_h1 + 128 * lay.k_l1
        sumcheck = c_h2 + 128 * lay.k_l2
        evals = sumcheck + 128 * lay.ell
        c_a = evals + 32 * 11
        folds = c_a + 256
        fold_evals = folds + 128 * FOLDS
        libra_evals = fold_evals + 96 * LOG_D
        witnesses = libra_evals + 128
        return Sections(
            c_v, c_limb1, c_mu1, c_act, c_limb2, c_mu2, c_r1, c_r1 + 128, c_lib, c_lib + 128,
            gamma, c_h1, c_h2, sumcheck, evals, c_a, c_a + 128, folds, fold_evals, libra_evals,
            witnesses, witnesses + 512,
        )  # fmt: skip


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


def swap(proof: bytes, a: int, b: int) -> bytes:
    return with_point(with_point(proof, a, proof[b : b + 128]), b, proof[a : a + 128])


def degenerate_cases(proof: bytes, s: Sections) -> dict[str, bytes]:
    """S8's commitments at infinity (the degenerate challenges cannot be built by editing)."""
    return {
        f"{name} := infinity": with_point(proof, offset, INFINITY)
        for name, offset in (
            ("C_Act", s.c_act),
            ("C_R1", s.c_r1),
            ("C_R2", s.c_r2),
            ("C_Lib", s.c_lib),
            ("C_Mk", s.c_mk),
            ("C_A", s.c_a),
            ("C_Q", s.c_q),
        )
    }


def proof_mutations(proof: bytes, s: Sections) -> dict[str, bytes]:
    """Named mutations of a valid proof across every section; every one must be refused."""
    assert len(proof) == s.end
    generator = encode_g1(g1_generator())
    ev = s.evals
    cases = {
        "C_P[0] := G": with_point(proof, 0, generator),
        "C_V[0] := G": with_point(proof, s.c_v, generator),
        "C_P[0] ↔ C_V[0]": swap(proof, 0, s.c_v),
        "C_Limb1[0] := G": with_point(proof, s.c_limb1, generator),
        "C_Mu1 := G": with_point(proof, s.c_mu1, generator),
        "C_Act := G": with_point(proof, s.c_act, generator),
        "C_Act ↔ C_Mu1": swap(proof, s.c_act, s.c_mu1),
        "C_Limb2[0] := G": with_point(proof, s.c_limb2, generator),
        "C_Mu2 := G": with_point(proof, s.c_mu2, generator),
        "C_R1 := G": with_point(proof, s.c_r1, generator),
        "C_R1 ↔ C_R2": swap(proof, s.c_r1, s.c_r2),
        "C_Lib ↔ C_Mk": swap(proof, s.c_lib, s.c_mk),
        "C_H1[0] := G": with_point(proof, s.c_h1, generator),
        "C_H2[last] := G": with_point(proof, s.sumcheck - 128, generator),
        "C_H1[0] ↔ C_H2[0]": swap(proof, s.c_h1, s.c_h2),
        "Γ + 1": plus_one(proof, s.gamma),
        "Γ + r (non-canonical)": with_word(proof, s.gamma, word(proof, s.gamma) + R),
        "sumcheck[0][0] + 1": plus_one(proof, s.sumcheck),
        "sumcheck[0][3] + 1": plus_one(proof, s.sumcheck + 96),
        "sumcheck[last][2] + 1": plus_one(proof, ev - 64),
        "sumcheck[0][1] + r (non-canonical)": with_word(
            proof, s.sumcheck + 32, word(proof, s.sumcheck + 32) + R
        ),
        **{f"evals[{k}] + 1": plus_one(proof, ev + 32 * k) for k in range(11)},
        "evals[4] + r (non-canonical)": with_word(proof, ev + 128, word(proof, ev + 128) + R),
        "C_A := G": with_point(proof, s.c_a, generator),
        "C_A ↔ C_Q": swap(proof, s.c_a, s.c_q),
        "fold[0] := G": with_point(proof, s.folds, generator),
        "fold[last] := infinity": with_point(proof, s.fold_evals - 128, INFINITY),
        "fold eval[0] + 1": plus_one(proof, s.fold_evals),
        "last fold eval + 1": plus_one(proof, s.libra_evals - 32),
        "Lib̂(β) + 1": plus_one(proof, s.libra_evals),
        "Â(ωβ) + 1": plus_one(proof, s.libra_evals + 96),
        "scalar 2^256 - 1": with_word(proof, s.fold_evals + 64, 2**256 - 1),
        "W[0] := G": with_point(proof, s.witnesses, generator),
        "W[3] := infinity": with_point(proof, s.witnesses + 384, INFINITY),
        "padding byte in C_Act.x": with_byte(proof, s.c_act + 3, 0x01),
        "padding byte in W[0].y": with_byte(proof, s.witnesses + 64 + 15, 0x01),
        "C_R2.y + p": coordinate_plus_p(proof, s.c_r2 + 64),
        "C_Limb2[0] off the curve": with_byte(proof, s.c_limb2 + 127, proof[s.c_limb2 + 127] ^ 1),
        "truncated by one byte": proof[:-1],
        "extended by one byte": proof + b"\x00",
        "extended by a point": proof + bytes(128),
        "empty": b"",
    }
    return cases


def statement_tamperings(statement: StackStatement) -> dict[str, StackStatement]:
    """Named statements that differ from the proven one; every one must be refused."""
    replace = dataclasses.replace
    y, x = bytearray(statement.y), bytearray(statement.x)
    relu = statement.layer2.activation == 1
    cases: dict[str, StackStatement] = {}
    for i in (0, len(y) - 1):
        for delta in (1, -1):
            value = (y[i] + delta) % 256
            if relu and value > 127:
                continue  # not an admissible relu statement
            changed = bytearray(y)
            changed[i] = value
            cases[f"y[{i}] {delta:+d}"] = replace(statement, y=bytes(changed))
    for j in sorted({0, len(x) - 1}):
        changed = bytearray(x)
        changed[j] = (changed[j] + 1) % 256
        cases[f"x[{j}] + 1"] = replace(statement, x=bytes(changed))
    l1, l2 = statement.layer1, statement.layer2
    cases["M1 + 1"] = replace(statement, layer1=replace(l1, multiplier=l1.multiplier + 1))
    cases["k1 + 1"] = replace(statement, layer1=replace(l1, shift=l1.shift + 1))
    cases["act1 flipped"] = replace(statement, layer1=replace(l1, activation=1 - l1.activation))
    cases["M2 + 1"] = replace(statement, layer2=replace(l2, multiplier=l2.multiplier + 1))
    cases["k2 + 1"] = replace(statement, layer2=replace(l2, shift=l2.shift + 1))
    if relu or all(b <= 127 for b in statement.y):
        cases["act2 flipped"] = replace(statement, layer2=replace(l2, activation=1 - l2.activation))
    cases["job id + 1"] = replace(statement, job_id=statement.job_id + 1)
    cases["model id"] = replace(statement, model_id=bytes(31) + b"\x01")
    cases["partition index + 1"] = replace(statement, partition_index=statement.partition_index + 1)
    return cases


# --------------------------------------------------------------------------------------------------
# Tests

SHAPES = [
    # (m1, n1, m2, k1, k2, act1, act2)
    pytest.param(*DIGITS, id="digits-64x64relu-32x64relu"),
    pytest.param(12, 20, 6, 16, 16, 0, 0, id="none-none"),
    pytest.param(9, 7, 5, 12, 20, 1, 0, id="relu-none"),
    pytest.param(20, 10, 8, 24, 8, 0, 1, id="none-relu"),
    # Several chunks of every kind: m' = 256 (cpc = 16): K_W(P) = K_W(V) = 3, K_L1 = 2, K_L2 = 3.
    pytest.param(200, 40, 40, 16, 16, 1, 1, id="multichunk-200x40-40x200"),
    # Sub-tables not aligned to groups of 8 in Tα1, Tα2 (k1' = 1 with relu, k2' = 2).
    pytest.param(12, 20, 6, 9, 10, 1, 0, id="small-top-limbs"),
    # m' = 512, n' = 16 (the limb columns of layer 1 fill the domain's columns: L1 = 16).
    pytest.param(300, 5, 6, 24, 62, 1, 0, id="mprime512-n16"),
]


@pytest.mark.parametrize(("m1", "n1", "m2", "k1", "k2", "act1", "act2"), SHAPES)
def test_python_proofs_verify_onchain(
    chain: ChainEnv,
    setup: Setup,
    m1: int,
    n1: int,
    m2: int,
    k1: int,
    k2: int,
    act1: int,
    act2: int,
) -> None:
    base, verifier = deploy(chain)
    stack = make_stack(setup, m1, n1, m2, k1, k2, act1, act2, seed=m1 * 1000 + n1 * 10 + m2)
    h_s = stack_commitment_hash(stack.commit_p.h_w, stack.commit_v.h_w)
    headers = stack.headers()
    assert verifier.functions.isWellFormed(h_s, SETUP_ID, headers).call() is False
    register_matrices(chain, setup, base, stack)
    assert record(chain, verifier, stack) == h_s
    assert verifier.functions.isWellFormed(h_s, SETUP_ID, headers).call() is True

    statement = stack_statement(stack, verifier.address)
    proof = stack_proof(setup, stack, statement)
    assert len(proof) == stack_proof_len(statement)
    verify_stack(setup, statement, proof)
    onchain = onchain_statement(statement)
    assert onchain_verdict(verifier, onchain, proof) is True
    call = verifier.functions.verifyPartitionProof(onchain, proof)
    gas = call.estimate_gas({"from": chain.node.address})
    used = int(chain.node.send(call, gas=gas)["gasUsed"])
    print(
        f"\nverifyPartitionProof stack {m1}x{n1} -> {m2}x{m1} (k={k1},{k2}, act={act1},{act2}, "
        f"ℓ={statement.layout.ell}): estimate_gas {gas}, gas used {used}, proof {len(proof)} B"
    )


@pytest.mark.parametrize(
    ("m1", "n1", "m2", "k1", "k2", "act1", "act2"),
    [SHAPES[0], SHAPES[1], SHAPES[4]],
)
def test_python_and_solidity_agree_on_every_mutation(
    chain: ChainEnv,
    setup: Setup,
    m1: int,
    n1: int,
    m2: int,
    k1: int,
    k2: int,
    act1: int,
    act2: int,
) -> None:
    base, verifier = deploy(chain)
    stack = make_stack(setup, m1, n1, m2, k1, k2, act1, act2, seed=7 * m1 + n1 + m2)
    register_matrices(chain, setup, base, stack)
    record(chain, verifier, stack)
    statement = stack_statement(stack, verifier.address)
    proof = stack_proof(setup, stack, statement)
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
    assert len(verdicts) >= 40


def test_proofs_are_bound_to_chain_verifier_and_commitment(chain: ChainEnv, setup: Setup) -> None:
    base, verifier = deploy(chain)
    _, other = deploy(chain)
    stack = make_stack(setup, 9, 7, 5, 16, 16, 1, 1, seed=99)
    register_matrices(chain, setup, base, stack)
    record(chain, verifier, stack)
    statement = stack_statement(stack, verifier.address)
    proof = stack_proof(setup, stack, statement)
    onchain = onchain_statement(statement)
    assert onchain_verdict(verifier, onchain, proof)

    # Another stack verifier (over another base without the registrations): not recorded there.
    assert onchain_verdict(other, onchain, proof) is False
    at_other = dataclasses.replace(statement, verifier=other.address)
    assert python_verdict(setup, at_other, proof) is False

    # A proof made for another chain id: valid there (Python), refused here (both).
    foreign = stack_statement(stack, verifier.address, chain_id=ANVIL_CHAIN_ID + 1)
    foreign_proof = stack_proof(setup, stack, foreign)
    assert python_verdict(setup, foreign, foreign_proof) is True
    assert python_verdict(setup, statement, foreign_proof) is False
    assert onchain_verdict(verifier, onchain, foreign_proof) is False

    # Another setup id, or H_P and H_V swapped (another weight commitment): refused.
    assert onchain_verdict(verifier, onchain_statement(statement, b"\x01" * 32), proof) is False
    swapped = dataclasses.replace(statement, h_p=statement.h_v, h_v=statement.h_p)
    assert python_verdict(setup, swapped, proof) is False
    assert onchain_verdict(verifier, onchain_statement(swapped), proof) is False
    # A single-layer header list or an extra layer: refused without a revert.
    single = list(onchain)
    single[4] = encode([f"{LAYER_HEADER_ABI}[]"], [[(7, 9, 1, 16, 1)]])
    assert onchain_verdict(verifier, tuple(single), proof) is False


def test_record_stack_errors(chain: ChainEnv, setup: Setup) -> None:
    base, verifier = deploy(chain)
    stack = make_stack(setup, 9, 7, 5, 16, 16, 1, 1, seed=5)
    h_p, h_v, headers = stack.commit_p.h_w, stack.commit_v.h_w, stack.headers()
    with pytest.raises(errors.StackNotRegistered):
        chain.owner.send(verifier.functions.recordStack(h_p, h_v, headers))
    register_matrices(chain, setup, base, stack)
    # Headers of one layer, or a layer 2 whose input is not layer 1's output.
    one = encode([f"{LAYER_HEADER_ABI}[]"], [[(7, 9, 1, 16, 1)]])
    with pytest.raises(errors.UnsupportedStack):
        chain.owner.send(verifier.functions.recordStack(h_p, h_v, one))
    bad = encode([f"{LAYER_HEADER_ABI}[]"], [[(7, 9, 1, 16, 1), (10, 5, 1, 16, 1)]])
    with pytest.raises(errors.UnsupportedStack):
        chain.owner.send(verifier.functions.recordStack(h_p, h_v, bad))
    # P and V swapped: registered, but not for these shapes.
    with pytest.raises(errors.StackNotRegistered):
        chain.owner.send(verifier.functions.recordStack(h_v, h_p, headers))
    h_s = record(chain, verifier, stack)
    assert record(chain, verifier, stack) == h_s  # again: succeeds
    assert verifier.functions.isWellFormed(h_s, SETUP_ID, headers).call() is True
    assert verifier.functions.isWellFormed(h_s, b"\x01" * 32, headers).call() is False
    assert verifier.functions.isWellFormed(h_s, SETUP_ID, one).call() is False
