"""
Tests for sumkzg.stack (docs/proof-system-stack.md): completeness over shapes and activations,
the prover's refusal of a false statement, statement tampering, byte mutations in every section of
a proof, malicious witnesses (a hidden activation that is not the clamp), and zero-knowledge
hygiene (fresh commitments per proof, nonzero masks, the hidden activation absent from the bytes,
mask commitments at infinity rejected).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, qlinear
from sumkzg.curve import G1_ENCODED_LEN
from sumkzg.errors import EncodingError, ProofRejected, WitnessError
from sumkzg.field import SCALAR_LEN, R, eq_table, scalar_to_bytes
from sumkzg.registration import WeightCommitment, commit_weights
from sumkzg.setup import Setup, load_setup
from sumkzg.stack import (
    C0,
    DOMAIN_STACK,
    STACK_EXTRA_ROWS,
    Columns,
    StackError,
    StackLayer,
    StackMasks,
    StackProof,
    StackProverHooks,
    StackStatement,
    _requant_parts,
    build_stack_witness,
    prove_stack,
    prove_stack_with_witness,
    stack_commitment_hash,
    stack_matrices,
    stack_proof_len,
    verify_stack,
    witness_from_activation,
)
from sumkzg.statement import StatementError
from sumkzg.transcript import keccak256

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MODEL_ID = bytes.fromhex("22" * 32)
IDENTITY = bytes(G1_ENCODED_LEN)


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@dataclass(frozen=True)
class Case:
    w1: npt.NDArray[np.int8]
    b1: npt.NDArray[np.int32]
    w2: npt.NDArray[np.int8]
    b2: npt.NDArray[np.int32]
    x: npt.NDArray[np.int8]
    a: npt.NDArray[np.int8]
    commit_p: WeightCommitment
    commit_v: WeightCommitment
    statement: StackStatement


@lru_cache(maxsize=16)
def case(
    m1: int,
    n1: int,
    m2: int,
    act1: int = 1,
    act2: int = 1,
    *,
    shift1: int = 20,
    shift2: int = 22,
    seed: int = 0,
) -> Case:
    rng = np.random.default_rng(seed)
    w1 = rng.integers(-128, 128, (m1, n1)).astype(np.int8)
    b1 = rng.integers(-(2**14), 2**14, m1).astype(np.int32)
    w2 = rng.integers(-128, 128, (m2, m1)).astype(np.int8)
    b2 = rng.integers(-(2**24), 2**24, m2).astype(np.int32)
    x = rng.integers(-128, 128, n1).astype(np.int8)
    mult1, mult2 = 1 << 14, 3 << 13
    a = qlinear(w1, b1, x, mult1, shift1, Activation(act1))
    y = qlinear(w2, b2, a, mult2, shift2, Activation(act2))
    (p_w, p_b), (v_w, v_b) = stack_matrices(w1, b1, w2, b2)
    setup = load_setup()
    commit_p = commit_weights(setup, p_w, p_b, rng=random.Random(seed))
    commit_v = commit_weights(setup, v_w, v_b, rng=random.Random(seed + 1))
    statement = StackStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=2,
        h_p=commit_p.h_w,
        h_v=commit_v.h_w,
        layer1=StackLayer(m1, n1, mult1, shift1, act1),
        layer2=StackLayer(m2, m1, mult2, shift2, act2),
        x=x,
        y=y,
        job_id=99,
    )
    return Case(w1, b1, w2, b2, x, a, commit_p, commit_v, statement)


def prove(setup: Setup, c: Case, statement: StackStatement | None = None) -> bytes:
    return prove_stack(
        setup,
        c.commit_p,
        c.commit_v,
        c.w1,
        c.b1,
        c.w2,
        c.b2,
        c.statement if statement is None else statement,
    )


@lru_cache(maxsize=4)
def digits_proof() -> bytes:
    return prove(load_setup(), case(64, 64, 32))


def rejected(setup: Setup, statement: StackStatement, proof: bytes) -> bool:
    try:
        verify_stack(setup, statement, proof)
    except (EncodingError, ProofRejected):
        return True
    return False


# --------------------------------------------------------------------------------------------------
# S1: the matrices


def test_stack_matrices_layout() -> None:
    c = case(5, 3, 2)
    (p_w, p_b), (v_w, v_b) = stack_matrices(c.w1, c.b1, c.w2, c.b2)
    assert p_w.dtype == np.int8 and v_w.dtype == np.int8
    assert p_w.shape == (5 + STACK_EXTRA_ROWS, 3) and v_w.shape == (5 + STACK_EXTRA_ROWS, 2)
    assert np.array_equal(p_w[:5], c.w1) and not p_w[5:].any()
    assert np.array_equal(p_b[:5], c.b1) and not p_b[5:].any()
    assert np.array_equal(v_w[:5], c.w2.T) and v_b.shape == (9,) and not v_b.any()
    recovered = sum((v_w[5 + t].astype(np.int64) + 128) << (8 * t) for t in range(4)) - 2**31
    assert np.array_equal(recovered, c.b2)


def test_stack_matrices_refuse_mismatch() -> None:
    c = case(5, 3, 2)
    with pytest.raises(StackError):
        stack_matrices(c.w1, c.b1, c.w2[:, :4], c.b2)
    with pytest.raises(StackError):
        stack_matrices(c.w1.astype(np.int16), c.b1, c.w2, c.b2)


def test_commitment_hash() -> None:
    c = case(5, 3, 2)
    h = stack_commitment_hash(c.statement.h_p, c.statement.h_v)
    assert h == keccak256(c.statement.h_p + c.statement.h_v) == c.statement.weight_commitment


def test_statement_refuses_bad_fields() -> None:
    s = case(5, 3, 2).statement
    with pytest.raises(StatementError):
        replace(s, layer2=replace(s.layer2, n=6))
    with pytest.raises(StatementError):  # L2 + 2 > m' = 8
        StackStatement.from_values(
            chain_id=1,
            verifier=VERIFIER,
            model_id=MODEL_ID,
            partition_index=0,
            h_p=s.h_p,
            h_v=s.h_v,
            layer1=StackLayer(3, 3, 1, 8, 1),
            layer2=StackLayer(2, 3, 1, 8, 1),
            x=[1, 2, 3],
            y=[0, 0],
            job_id=0,
        )
    with pytest.raises(StatementError):  # relu y < 0
        replace(s, y=b"\xff" + s.y[1:])
    with pytest.raises(StatementError):
        replace(s, x=s.x + b"\x00")
    with pytest.raises(StatementError):
        StackLayer(5, 3, 2**31, 8, 1)
    with pytest.raises(StatementError):
        StackLayer(5, 3, 1, 63, 1)
    with pytest.raises(StatementError):
        StackLayer(5, 3, 1, 8, 2)


def test_statement_bytes() -> None:
    s = case(5, 3, 2).statement
    raw = s.to_bytes()
    head = 32 + 20 + 32 + 32 + 32 + 32 + 32 + 4 + 4 + 4 + 1 + 1 + 4 + 4 + 1 + 1
    assert len(raw) == head + 3 + 2 + 32
    assert raw[:head].endswith(bytes([0, 0, 0, 2]) + (3 << 13).to_bytes(4, "big") + bytes([22, 1]))
    assert raw.endswith(s.x + s.y + (99).to_bytes(32, "big"))
    assert DOMAIN_STACK == b"SUMKZG-ML/v2/stack2"


# --------------------------------------------------------------------------------------------------
# Completeness


@pytest.mark.parametrize(
    ("m1", "n1", "m2", "act1", "act2"),
    [
        (5, 3, 2, 1, 1),
        (6, 7, 3, 0, 1),
        (6, 7, 3, 1, 0),
        (13, 9, 4, 0, 0),
    ],
)
def test_completeness_small(setup: Setup, m1: int, n1: int, m2: int, act1: int, act2: int) -> None:
    c = case(m1, n1, m2, act1, act2)
    proof = prove(setup, c)
    assert len(proof) == stack_proof_len(c.statement)
    verify_stack(setup, c.statement, proof)


def test_completeness_digits(setup: Setup) -> None:
    c = case(64, 64, 32)
    proof = digits_proof()
    assert len(proof) == stack_proof_len(c.statement)
    verify_stack(setup, c.statement, proof)


def test_completeness_shifts(setup: Setup) -> None:
    c = case(7, 5, 3, 1, 1, shift1=1, shift2=62)
    verify_stack(setup, c.statement, prove(setup, c))
    c = case(7, 5, 3, 0, 1, shift1=62, shift2=1)
    verify_stack(setup, c.statement, prove(setup, c))


def test_completeness_multi_chunk(setup: Setup) -> None:
    """``P`` of 10 weight chunks, ``V`` of 2, ``Limb2``/``H2`` of 2 chunks."""
    c = case(100, 300, 40)
    lay = c.statement.layout
    assert lay.lp.k_w > 1 and lay.lv.k_w > 1 and lay.k_l2 > 1
    verify_stack(setup, c.statement, prove(setup, c))


def test_completeness_multi_chunk_limbs(setup: Setup) -> None:
    """``m' = 256``: ``Limb1``/``H1`` of 2 chunks, ``P`` of 2; fresh blinding in every chunk."""
    c = case(130, 20, 10)
    lay = c.statement.layout
    assert lay.k_l1 > 1 and lay.lp.k_w > 1
    first, second = prove(setup, c), prove(setup, c)
    verify_stack(setup, c.statement, first)
    a, b = _points(first, c.statement), _points(second, c.statement)
    for name in a:
        assert (a[name] == b[name]) if name in ("C_P", "C_V") else not set(a[name]) & set(b[name])


# --------------------------------------------------------------------------------------------------
# Soundness: statements, bytes


def test_prover_refuses_wrong_y(setup: Setup) -> None:
    c = case(5, 3, 2)
    y = bytearray(c.statement.y)
    y[0] = (y[0] + 1) % 128
    with pytest.raises(WitnessError):
        prove(setup, c, replace(c.statement, y=bytes(y)))


def test_prover_refuses_mismatched_commitment(setup: Setup) -> None:
    c = case(5, 3, 2)
    with pytest.raises(WitnessError):
        prove_stack(setup, c.commit_v, c.commit_p, c.w1, c.b1, c.w2, c.b2, c.statement)


def _tampered(s: StackStatement) -> list[StackStatement]:
    other = keccak256(b"other")
    y = bytearray(s.y)
    y[1] = (y[1] + 1) % 128
    x = bytearray(s.x)
    x[0] ^= 1
    return [
        replace(s, x=bytes(x)),
        replace(s, y=bytes(y)),
        replace(s, job_id=s.job_id + 1),
        replace(s, chain_id=1),
        replace(s, partition_index=0),
        replace(s, model_id=other),
        replace(s, h_p=other),
        replace(s, h_v=other),
        replace(s, layer1=replace(s.layer1, multiplier=s.layer1.multiplier + 1)),
        replace(s, layer1=replace(s.layer1, shift=s.layer1.shift + 1)),
        replace(s, layer1=replace(s.layer1, activation=0)),
        replace(s, layer2=replace(s.layer2, multiplier=s.layer2.multiplier + 1)),
        replace(s, layer2=replace(s.layer2, shift=s.layer2.shift + 1)),
        replace(s, layer2=replace(s.layer2, activation=0)),
    ]


def test_statement_tampering_rejected(setup: Setup) -> None:
    c = case(64, 64, 32)
    proof = digits_proof()
    for other in _tampered(c.statement):
        assert rejected(setup, other, proof), other


def _sections(statement: StackStatement) -> list[tuple[str, int, int]]:
    lay = statement.layout
    p, s = G1_ENCODED_LEN, SCALAR_LEN
    sizes = [
        ("C_P", lay.lp.k_w * p),
        ("C_V", lay.lv.k_w * p),
        ("C_Limb1", lay.k_l1 * p),
        ("C_Mu1", p),
        ("C_Act", p),
        ("C_Limb2", lay.k_l2 * p),
        ("C_Mu2", p),
        ("C_R1", p),
        ("C_R2", p),
        ("C_Lib", p),
        ("C_Mk", p),
        ("Gamma", s),
        ("C_H1", lay.k_l1 * p),
        ("C_H2", lay.k_l2 * p),
        ("sumcheck", lay.ell * 4 * s),
        ("evals", 11 * s),
    ]
    out = []
    offset = 0
    for name, size in sizes:
        out.append((name, offset, size))
        offset += size
    out.append(("opening", offset, lay.byte_len - offset))
    return out


def test_byte_mutations_rejected(setup: Setup) -> None:
    c = case(64, 64, 32)
    proof = digits_proof()
    rng = random.Random(5)
    positions: list[int] = []
    for _name, offset, size in _sections(c.statement):
        positions += [offset + size - 1, offset + rng.randrange(size)]
    positions += [rng.randrange(len(proof)) for _ in range(8)]
    assert len(positions) >= 40
    for pos in positions:
        mutated = bytearray(proof)
        mutated[pos] ^= 1 << rng.randrange(8)
        assert rejected(setup, c.statement, bytes(mutated)), pos
    assert rejected(setup, c.statement, proof[:-1])
    assert rejected(setup, c.statement, proof + b"\x00")


def test_mask_commitments_at_infinity_rejected(setup: Setup) -> None:
    c = case(64, 64, 32)
    proof = digits_proof()
    names = {name: (offset, size) for name, offset, size in _sections(c.statement)}
    for name in ("C_Act", "C_R1", "C_R2", "C_Lib", "C_Mk"):
        offset, size = names[name]
        mutated = proof[:offset] + IDENTITY + proof[offset + size :]
        with pytest.raises(ProofRejected, match="infinity"):
            verify_stack(setup, c.statement, mutated)


def test_other_statement_bytes_rejected(setup: Setup) -> None:
    c = case(5, 3, 2)
    witness = build_stack_witness(
        c.w1.astype(np.int64),
        c.b1.astype(np.int64),
        c.w2.astype(np.int64),
        c.b2.astype(np.int64),
        c.statement,
    )
    hooks = StackProverHooks(statement_bytes=lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]))
    proof = _prove_witness(setup, c, witness, hooks=hooks)
    assert rejected(setup, c.statement, proof)


# --------------------------------------------------------------------------------------------------
# Malicious witnesses


def _prove_witness(
    setup: Setup,
    c: Case,
    witness: object,
    statement: StackStatement | None = None,
    hooks: StackProverHooks | None = None,
) -> bytes:
    return prove_stack_with_witness(
        setup,
        c.commit_p,
        c.commit_v,
        c.w1.astype(np.int64),
        c.b1.astype(np.int64),
        c.w2.astype(np.int64),
        c.b2.astype(np.int64),
        c.statement if statement is None else statement,
        witness,  # type: ignore[arg-type]
        hooks=hooks,
    )


def _layer1(c: Case) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    l1 = c.statement.layer1
    z1 = c.w1.astype(np.int64) @ c.x.astype(np.int64) + c.b1
    return _requant_parts(z1, l1.multiplier, l1.shift)


def _statement_for(c: Case, a: npt.NDArray[np.int64]) -> StackStatement:
    """The statement whose y is layer 2 of the (false) hidden activation ``a``."""
    l2 = c.statement.layer2
    z2 = c.w2.astype(np.int64) @ a + c.b2
    q2, _ = _requant_parts(z2, l2.multiplier, l2.shift)
    lo = 0 if l2.activation == 1 else -128
    return replace(c.statement, y=np.clip(q2, lo, 127).astype(np.int8).tobytes())


def _malicious_proof(
    setup: Setup,
    c: Case,
    a: npt.NDArray[np.int64],
    rho: npt.NDArray[np.int64],
    v_plus: npt.NDArray[np.int64],
    v_minus: npt.NDArray[np.int64],
) -> tuple[StackStatement, bytes]:
    statement = _statement_for(c, a)
    witness = witness_from_activation(
        c.w2.astype(np.int64), c.b2.astype(np.int64), statement, a, rho, v_plus, v_minus
    )
    try:
        proof = _prove_witness(setup, c, witness, statement)
    except WitnessError:
        return statement, b""
    return statement, proof


def test_malicious_unclamped_activation(setup: Setup) -> None:
    """``a_i = q_i > 127`` with ``v⁺ = 0``: the relu range check of ``a`` fails."""
    c = case(64, 64, 32, shift1=17)
    q, rho = _layer1(c)
    assert np.any(q > 127)
    a = np.clip(q, 0, None)
    v_minus = np.maximum(-q, 0)
    statement, proof = _malicious_proof(setup, c, a, rho, np.zeros_like(q), v_minus)
    assert not proof or rejected(setup, statement, proof)


def test_malicious_activation_plus_one_slack(setup: Setup) -> None:
    """``a_i + 1`` balanced by ``v⁻_i = 1``: the clamp product ``(a − lo)·v⁻`` is not zero."""
    c = case(64, 64, 32, shift1=20)
    q, rho = _layer1(c)
    a = np.clip(q, 0, 127)
    v_plus = np.maximum(q - a, 0)
    v_minus = np.maximum(a - q, 0)
    i = int(np.flatnonzero((a > 0) & (a < 126))[0])
    a = a.copy()
    a[i] += 1
    v_minus = v_minus.copy()
    v_minus[i] += 1
    statement, proof = _malicious_proof(setup, c, a, rho, v_plus, v_minus)
    assert proof and rejected(setup, statement, proof)


def test_malicious_activation_plus_one_remainder(setup: Setup) -> None:
    """``a_i + 1`` with ``ρ_i − 2^{k1}``: the remainder range check fails."""
    c = case(64, 64, 32, shift1=20)
    q, rho = _layer1(c)
    a = np.clip(q, 0, 127)
    v_plus = np.maximum(q - a, 0)
    v_minus = np.maximum(a - q, 0)
    i = int(np.flatnonzero((a > 0) & (a < 126))[0])
    a, rho = a.copy(), rho.copy()
    a[i] += 1
    rho[i] -= 1 << c.statement.layer1.shift
    statement, proof = _malicious_proof(setup, c, a, rho, v_plus, v_minus)
    assert proof and rejected(setup, statement, proof)


def test_malicious_honest_witness_wrong_y(setup: Setup) -> None:
    """The honest ``a`` with a statement claiming another ``y``: no witness exists."""
    c = case(5, 3, 2)
    q, rho = _layer1(c)
    a = np.clip(q, 0, 127)
    y = bytearray(c.statement.y)
    y[0] = (y[0] + 1) % 128
    statement = replace(c.statement, y=bytes(y))
    with pytest.raises(WitnessError):
        witness_from_activation(
            c.w2.astype(np.int64),
            c.b2.astype(np.int64),
            statement,
            a,
            rho,
            np.maximum(q - a, 0),
            np.maximum(a - q, 0),
        )
    honest = build_stack_witness(
        c.w1.astype(np.int64),
        c.b1.astype(np.int64),
        c.w2.astype(np.int64),
        c.b2.astype(np.int64),
        c.statement,
    )
    proof = _prove_witness(setup, c, honest, statement)
    assert rejected(setup, statement, proof)


def test_non_periodic_act_rejected(setup: Setup) -> None:
    """A committed ``Act`` chunk that is not periodic (one off-period entry changed)."""
    c = case(5, 3, 2)
    honest = build_stack_witness(
        c.w1.astype(np.int64),
        c.b1.astype(np.int64),
        c.w2.astype(np.int64),
        c.b2.astype(np.int64),
        c.statement,
    )
    m_pad = c.statement.layout.m_pad

    def bend(chunk: list[int]) -> list[int]:
        out = list(chunk)
        out[m_pad + 1] += 1
        return out

    proof = _prove_witness(setup, c, honest, hooks=StackProverHooks(act_chunk=bend))
    assert rejected(setup, c.statement, proof)


# --------------------------------------------------------------------------------------------------
# Zero knowledge hygiene


def _points(proof: bytes, statement: StackStatement) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for name, offset, size in _sections(statement):
        if name in ("Gamma", "sumcheck", "evals", "opening"):
            continue
        section = proof[offset : offset + size]
        out[name] = [section[k : k + G1_ENCODED_LEN] for k in range(0, size, G1_ENCODED_LEN)]
    return out


def test_fresh_commitments_per_proof(setup: Setup) -> None:
    c = case(64, 64, 32)
    first, second = digits_proof(), prove(setup, c)
    a, b = _points(first, c.statement), _points(second, c.statement)
    for name in a:
        if name in ("C_P", "C_V"):
            assert a[name] == b[name]
        else:
            assert not set(a[name]) & set(b[name]), name
    opening = len(first) - _sections(c.statement)[-1][2]
    assert first[opening:] != second[opening:]


def test_masks_nonzero() -> None:
    masks = StackMasks.draw(case(64, 64, 32).statement.layout, random.Random(3))
    for values in (
        masks.limb1,
        masks.h1,
        masks.mu1,
        masks.act,
        masks.limb2,
        masks.h2,
        masks.mu2,
        masks.r1,
        masks.r2,
        masks.zk.gemini,
    ):
        assert all(v % (2**255) != 0 for v in values)


def test_zero_act_mask_refused(setup: Setup) -> None:
    """Forced zero ``Act`` blinding and zero ``R1`` make ``C_R1`` the identity: refused."""
    c = case(5, 3, 2)
    honest = build_stack_witness(
        c.w1.astype(np.int64),
        c.b1.astype(np.int64),
        c.w2.astype(np.int64),
        c.b2.astype(np.int64),
        c.statement,
    )

    def zero(masks: StackMasks) -> StackMasks:
        return replace(masks, r1=[0] * len(masks.r1))

    with pytest.raises(WitnessError):
        _prove_witness(setup, c, honest, hooks=StackProverHooks(masks=zero))


def test_hidden_activation_not_in_bytes(setup: Setup) -> None:
    c = case(64, 64, 32)
    proof = digits_proof()
    a = c.a.astype(np.int64)
    assert a.any()
    assert a.astype(np.int8).tobytes() not in proof
    for v in {int(v) for v in a if v != 0}:
        assert scalar_to_bytes(v) not in proof
    assert isinstance(StackProof.from_bytes(proof, c.statement.layout), StackProof)


def test_periodicity_term_catches_per_column_activation() -> None:
    """
    The attack that ``Pc`` (S5 "Why Pc") closes, on the hypercube: ``Act`` read as
    ``A*(i, j mod cpc)`` equal to a false ``a′_i = q_i + 1`` at the columns that ``A1``, ``T1``
    and ``A2`` read and to ``lo1`` at the ``cvm`` columns (with ``v⁻_i = 1``) satisfies every row
    identity of ``A1, T1, Gm, Gp, A2``; only ``Pc`` is non-zero.
    """
    c = case(5, 3, 2, shift1=20)
    lay = c.statement.layout
    l1, l2 = lay.layer1, lay.layer2
    q, rho = _layer1(c)
    a = np.clip(q, 0, 127)
    i = int(np.flatnonzero((a > 0) & (a < 126))[0])
    fake = a.copy()
    fake[i] += 1
    v_plus, v_minus = np.maximum(q - a, 0), np.maximum(a - q, 0)
    v_minus[i] += 1
    statement = _statement_for(c, fake)
    witness = witness_from_activation(
        c.w2.astype(np.int64), c.b2.astype(np.int64), statement, fake, rho, v_plus, v_minus
    )
    limb1 = np.asarray(witness.limbs1, dtype=object)
    limb2 = np.asarray(witness.limbs2, dtype=object)
    cpc = 1 << lay.cpc_bits
    cols = Columns.of(statement)
    cvm = cols.cvm + [0] * (cpc - len(cols.cvm))
    act = np.empty((l1.m, cpc), dtype=object)  # A*(i, r) for r < cpc
    for row in range(l1.m):
        act[row] = [l1.low if cvm[r] else int(fake[row]) for r in range(cpc)]
    pos_v = [int(p) for p in lay.lv.positions()[: l2.m]]
    assert not any(cvm[p] for p in pos_v)
    (p_w, p_b), (v_w, _v_b) = stack_matrices(c.w1, c.b1, c.w2, c.b2)
    z1 = p_w[: l1.m].astype(np.int64) @ c.x.astype(np.int64) + p_b[: l1.m]
    k1, k2 = l1.shift, l2.shift

    def pad(values: list[int]) -> list[int]:
        return values + [0] * (lay.limbs1 - len(values))

    for row in range(l1.m):
        lim = [int(v) for v in limb1[row]]
        a1 = (
            l1.multiplier * int(z1[row])
            + (1 << (k1 - 1))
            - sum((pad(cols.crho1)[j] + (pad(cols.cvp)[j] << k1)) * x for j, x in enumerate(lim))
            + sum((cm << k1) * x for cm, x in zip(cols.cvm, lim, strict=False))
            - (1 << k1) * act[row, 0]
        )
        t1 = act[row, 0] - l1.low - lim[lay.ja]
        gm = sum(
            cm * (act[row, j] - l1.low) * x
            for j, (cm, x) in enumerate(zip(cols.cvm, lim, strict=False))
        )
        gp = sum(
            cp * (127 - act[row, j]) * x
            for j, (cp, x) in enumerate(zip(cols.cvp, lim, strict=False))
        )
        assert (a1, t1, gm, gp) == (0, 0, 0, 0)
    y = statement.y_values
    sigma = cols.sigma2
    for col, p in enumerate(pos_v):
        inner = sum(int(v_w[r, col]) * act[r, p] for r in range(l1.m))
        inner += sum((1 << (8 * t)) * int(v_w[l1.m + t, col]) for t in range(STACK_EXTRA_ROWS))
        lim2 = [int(v) for v in limb2[:, col]]
        a2 = (
            l2.multiplier * (inner + C0)
            + (1 << (k2 - 1))
            - (1 << k2) * y[col]
            - sum(cr * x for cr, x in zip(cols.crho2, lim2, strict=False))
            - sum((sigma[p] << k2) * cu * x for cu, x in zip(cols.cu2, lim2, strict=False))
        )
        assert a2 == 0
    tau_c = [random.Random(9).randrange(R) for _ in range(lay.cpc_bits)]
    psi = eq_table(tau_c)
    pc = [
        sum(e * v for e, v in zip(psi, act[row], strict=False)) - act[row, 0] for row in range(l1.m)
    ]
    assert pc[i] % R != 0
