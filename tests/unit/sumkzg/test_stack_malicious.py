"""
The malicious-prover battery for the two-layer stack proof (docs/proof-system-stack.md), the stack
counterpart of test_malicious_provers.py.

Every forged witness below satisfies the **arithmetic** of the layer-1 row identity and of the
clamp gadget over the field (checked in each test), so that only the range checks (the lookups of
``ρ``, ``v±`` and ``a − lo``) or the sumcheck itself are left to catch it. The layers are
engineered: with ``M1 = 2^14`` and ``k1 = 20`` a row's quotient is ``q = ⌊z/64 + 1/2⌋``, and row 0's
bias is solved for a chosen ``q``, so each case knows exactly which boundary it attacks. The
statement's ``y`` is always what layer 2 computes from the forged activation, so a prover that
could forge ``a`` would prove a false ``y``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from sumkzg import load_setup
from sumkzg.errors import EncodingError, ProofRejected, WitnessError
from sumkzg.field import R
from sumkzg.registration import WeightCommitment, commit_weights
from sumkzg.setup import Setup
from sumkzg.stack import (
    StackLayer,
    StackProverHooks,
    StackStatement,
    StackWitness,
    build_stack_witness,
    prove_stack,
    prove_stack_with_witness,
    stack_matrices,
    verify_stack,
    witness_from_activation,
)

VERIFIER = "0x" + "ab" * 20
MODEL_ID = b"\x42" * 32
M1, K1 = 1 << 14, 20  # q = floor(z / 64 + 1/2)
M2, K2 = 3 << 13, 22


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@dataclass(frozen=True)
class Engineered:
    """A stack whose row 0 of layer 1 has the quotient ``q0`` (``z0 = 64·q0``)."""

    w1: npt.NDArray[np.int64]
    b1: npt.NDArray[np.int64]
    w2: npt.NDArray[np.int64]
    b2: npt.NDArray[np.int64]
    x: npt.NDArray[np.int8]
    commit_p: WeightCommitment
    commit_v: WeightCommitment
    layer1: StackLayer
    layer2: StackLayer

    def quotient(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Layer 1's ``(q, ρ)`` per row: ``M1·z + 2^{k1−1} = 2^{k1}·q + ρ``."""
        z = self.w1 @ self.x.astype(np.int64) + self.b1
        t = z * M1 + (1 << (K1 - 1))
        return t >> K1, t & ((1 << K1) - 1)

    def statement(self, a: npt.NDArray[np.int64]) -> StackStatement:
        """The statement whose ``y`` is layer 2 applied to the (possibly forged) ``a``, computed
        exactly on the integers (the runtime's rule, also for an ``a`` outside int8)."""
        z2 = self.w2 @ a.astype(np.int64) + self.b2
        q2 = (z2 * M2 + (1 << (K2 - 1))) >> K2
        y = np.clip(q2, self.layer2.low, 127).astype(np.int8)
        return StackStatement.from_values(
            chain_id=31337,
            verifier=VERIFIER,
            model_id=MODEL_ID,
            partition_index=1,
            h_p=self.commit_p.h_w,
            h_v=self.commit_v.h_w,
            layer1=self.layer1,
            layer2=self.layer2,
            x=self.x,
            y=y,
            job_id=5,
        )


@lru_cache(maxsize=8)
def engineered(q0: int, act1: int = 1, act2: int = 1) -> Engineered:
    rng = np.random.default_rng(q0 & 0xFFFF)
    m1, n1, m2 = 8, 6, 3
    w1 = rng.integers(-128, 128, (m1, n1)).astype(np.int64)
    x = rng.integers(-128, 128, n1).astype(np.int8)
    b1 = rng.integers(-(2**12), 2**12, m1).astype(np.int64)
    b1[0] = 64 * q0 - int(w1[0] @ x.astype(np.int64))
    w2 = rng.integers(-128, 128, (m2, m1)).astype(np.int64)
    b2 = rng.integers(-(2**20), 2**20, m2).astype(np.int64)
    (p_w, p_b), (v_w, v_b) = stack_matrices(
        w1.astype(np.int8), b1.astype(np.int32), w2.astype(np.int8), b2.astype(np.int32)
    )
    setup = load_setup()
    commit_p = commit_weights(setup, p_w, p_b, rng=random.Random(1))
    commit_v = commit_weights(setup, v_w, v_b, rng=random.Random(2))
    return Engineered(
        w1,
        b1,
        w2,
        b2,
        x,
        commit_p,
        commit_v,
        StackLayer(m1, n1, M1, K1, act1),
        StackLayer(m2, m1, M2, K2, act2),
    )


def rejected(setup: Setup, statement: StackStatement, proof: bytes) -> bool:
    try:
        verify_stack(setup, statement, proof)
    except (ProofRejected, EncodingError):
        return True
    return False


def forge(
    setup: Setup,
    e: Engineered,
    a: npt.NDArray[np.int64],
    rho: npt.NDArray[np.int64],
    v_plus: npt.NDArray[np.int64],
    v_minus: npt.NDArray[np.int64],
) -> tuple[StackStatement, bytes]:
    """Prove the forged layer-1 decomposition (after checking its field arithmetic)."""
    q, _ = e.quotient()
    lo = e.layer1.low
    # The arithmetic the relation checks holds for every row: only a range check can object.
    assert np.all(a + v_plus - v_minus == q)
    assert np.all((a - lo) * v_minus == 0) and np.all((127 - a) * v_plus == 0)
    statement = e.statement(a)
    witness = witness_from_activation(e.w2, e.b2, statement, a, rho, v_plus, v_minus)
    return statement, prove_stack_with_witness(
        setup, e.commit_p, e.commit_v, e.w1, e.b1, e.w2, e.b2, statement, witness
    )


def honest_parts(
    e: Engineered,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    q, rho = e.quotient()
    lo = e.layer1.low
    a = np.clip(q, lo, 127)
    return a, rho, np.maximum(q - a, 0), np.maximum(a - q, 0)


@pytest.mark.parametrize(("q0", "act1"), [(128, 1), (-1, 1), (5, 1), (128, 0), (-129, 0)])
def test_engineered_rows_prove_honestly(setup: Setup, q0: int, act1: int) -> None:
    """Control: the engineered stacks prove and verify with the honest witness."""
    e = engineered(q0, act1)
    assert int(e.quotient()[0][0]) == q0
    a, rho, vp, vm = honest_parts(e)
    statement, proof = forge(setup, e, a, rho, vp, vm)
    verify_stack(setup, statement, proof)


def test_relu_activation_128_is_out_of_range(setup: Setup) -> None:
    """
    ``q = 128`` under relu: claim ``a = 128`` with ``v⁺ = 0``. The row identity and both clamp
    products hold; ``a − lo = 128`` is a byte, so only the relu sub-table ``2λ + [0, 128)`` can
    reject it.
    """
    e = engineered(128, act1=1)
    a, rho, vp, vm = honest_parts(e)
    a, vp = a.copy(), vp.copy()
    a[0], vp[0] = 128, 0
    statement, proof = forge(setup, e, a, rho, vp, vm)
    assert rejected(setup, statement, proof)


def test_none_activation_128_is_out_of_range(setup: Setup) -> None:
    """``q = 128`` without activation: ``a = 128`` makes ``a + 128 = 256``, not a byte."""
    e = engineered(128, act1=0)
    a, rho, vp, vm = honest_parts(e)
    a, vp = a.copy(), vp.copy()
    a[0], vp[0] = 128, 0
    statement, proof = forge(setup, e, a, rho, vp, vm)
    assert rejected(setup, statement, proof)


def test_relu_activation_minus_one_is_out_of_range(setup: Setup) -> None:
    """``q = −1`` under relu: claim ``a = −1`` with ``v⁻ = 0`` (the honest ``a = 0, v⁻ = 1``)."""
    e = engineered(-1, act1=1)
    a, rho, vp, vm = honest_parts(e)
    a, vm = a.copy(), vm.copy()
    a[0], vm[0] = -1, 0
    statement, proof = forge(setup, e, a, rho, vp, vm)
    assert rejected(setup, statement, proof)


def test_none_activation_minus_129_is_out_of_range(setup: Setup) -> None:
    """``q = −129`` without activation: ``a = −129`` makes ``a + 128 = −1``, not a byte."""
    e = engineered(-129, act1=0)
    a, rho, vp, vm = honest_parts(e)
    a, vm = a.copy(), vm.copy()
    a[0], vm[0] = -129, 0
    statement, proof = forge(setup, e, a, rho, vp, vm)
    assert rejected(setup, statement, proof)


def test_negative_slack_field_limb(setup: Setup) -> None:
    """
    ``q = 5``: claim ``a = 0`` with ``v⁻ = −5`` held as the field element ``r − 5`` in its low
    limb. ``a·v⁻ = 0`` and the row identity hold over the field; the slack limb is not a byte.
    """
    e = engineered(5, act1=1)
    a, rho, vp, vm = honest_parts(e)
    a = a.copy()
    a[0] = 0
    statement = e.statement(a)
    honest = witness_from_activation(e.w2, e.b2, statement, a, rho, vp, np.zeros_like(vm))
    lay = statement.layout
    limbs1 = np.asarray(honest.limbs1, dtype=object).copy()
    limbs1[0, lay.k_rho1 + lay.k_u1] = R - 5  # v⁻'s low limb = −5
    limbs1[0, lay.ja] = 0  # a − lo = 0
    forged = replace(honest, limbs1=limbs1)
    proof = prove_stack_with_witness(
        setup, e.commit_p, e.commit_v, e.w1, e.b1, e.w2, e.b2, statement, forged
    )
    assert rejected(setup, statement, proof)


def test_activation_limb_disagrees_with_act(setup: Setup) -> None:
    """
    The committed ``Act`` says ``a + 1`` while the range-checked limb says ``a`` (``T1`` ties
    them): the clamp gadget and layer 2 would read an unchecked value.
    """
    e = engineered(5, act1=1)
    a, rho, vp, vm = honest_parts(e)
    statement = e.statement(a)
    honest = witness_from_activation(e.w2, e.b2, statement, a, rho, vp, vm)
    act = np.asarray(honest.activation, dtype=object).copy()
    act[0] = (int(act[0]) + 1) % R
    forged_statement = e.statement(np.asarray([int(v) for v in act], dtype=np.int64))
    forged = witness_from_activation(
        e.w2, e.b2, forged_statement, np.asarray([int(v) for v in act], dtype=np.int64), rho, vp, vm
    )
    # Keep the honest limbs (a − lo = 5) under the forged Act (6).
    forged = replace(forged, limbs1=honest.limbs1, multiplicities1=honest.multiplicities1)
    proof = prove_stack_with_witness(
        setup, e.commit_p, e.commit_v, e.w1, e.b1, e.w2, e.b2, forged_statement, forged
    )
    assert rejected(setup, forged_statement, proof)


def test_witness_with_the_wrong_multiplicities(setup: Setup) -> None:
    """One count of ``Mu1`` (or ``Mu2``) moved to the next table entry breaks the logUp sum."""
    e = engineered(5)
    a, rho, vp, vm = honest_parts(e)
    statement = e.statement(a)
    honest = witness_from_activation(e.w2, e.b2, statement, a, rho, vp, vm)
    for name in ("multiplicities1", "multiplicities2"):
        counts = list(getattr(honest, name))
        k = next(i for i, v in enumerate(counts) if v)
        counts[k] -= 1
        counts[k + 1] += 1
        forged: StackWitness = (
            replace(honest, multiplicities1=tuple(counts))
            if name == "multiplicities1"
            else replace(honest, multiplicities2=tuple(counts))
        )
        proof = prove_stack_with_witness(
            setup, e.commit_p, e.commit_v, e.w1, e.b1, e.w2, e.b2, statement, forged
        )
        assert rejected(setup, statement, proof), name


# --------------------------------------------------------------------------------------------------
# Sumcheck and transcript attacks through the prover's hooks


def _hooked(setup: Setup, e: Engineered, hooks: StackProverHooks) -> tuple[StackStatement, bytes]:
    statement = e.statement(honest_parts(e)[0])
    witness = build_stack_witness(e.w1, e.b1, e.w2, e.b2, statement)
    proof = prove_stack_with_witness(
        setup, e.commit_p, e.commit_v, e.w1, e.b1, e.w2, e.b2, statement, witness, hooks=hooks
    )
    return statement, proof


def test_hooks_that_change_nothing_give_a_valid_proof(setup: Setup) -> None:
    """Control for the round attacks: an identity round hook proves an honest statement."""
    statement, proof = _hooked(
        setup, engineered(5), StackProverHooks(round_message=lambda t, evals, claim: evals)
    )
    verify_stack(setup, statement, proof)


@pytest.mark.parametrize("round_index", [0, 1, 7, -1])
def test_consistent_but_false_round_message(setup: Setup, round_index: int) -> None:
    """
    A round message that still satisfies ``s(0) + s(1) = claim`` but is not the true round
    polynomial (``s(2)`` moved): every later claim is wrong and the final check fails.
    """
    ell = engineered(5).statement(honest_parts(engineered(5))[0]).layout.ell
    target = round_index % ell

    def bend(t: int, evals: list[int], claim: int) -> list[int]:
        if t != target:
            return evals
        s0, s1, s2, s3 = evals
        return [s0, s1, (s2 + 1) % R, s3]

    statement, proof = _hooked(setup, engineered(5), StackProverHooks(round_message=bend))
    assert rejected(setup, statement, proof)


def test_round_message_fitted_to_a_shifted_claim(setup: Setup) -> None:
    """
    The first round's message is shifted so that ``s(0) + s(1)`` equals a claim off by one: the
    verifier's very first check fails.
    """

    def shift(t: int, evals: list[int], claim: int) -> list[int]:
        return [(evals[0] + 1) % R, *evals[1:]] if t == 0 else evals

    statement, proof = _hooked(setup, engineered(5), StackProverHooks(round_message=shift))
    assert rejected(setup, statement, proof)


@pytest.mark.parametrize("part", ["x", "y"])
def test_transcript_without_x_or_y(setup: Setup, part: str) -> None:
    """A prover that absorbs the statement without ``x`` (or ``y``): the challenges differ."""
    e = engineered(5)
    statement = e.statement(honest_parts(e)[0])
    real = statement.to_bytes()
    cut = statement.x if part == "x" else statement.y
    assert real.count(cut) >= 1
    statement_out, proof = _hooked(
        setup, e, StackProverHooks(statement_bytes=lambda b: b.replace(cut, b"", 1))
    )
    assert rejected(setup, statement_out, proof)


def test_prover_refuses_a_false_statement_honestly(setup: Setup) -> None:
    """The honest entry point never proves a y the runtime does not compute."""
    e = engineered(128)
    a, *_ = honest_parts(e)
    statement = e.statement(a)
    y = bytearray(statement.y)
    y[0] = (y[0] + 1) % 128
    with pytest.raises(WitnessError):
        prove_stack(
            setup,
            e.commit_p,
            e.commit_v,
            e.w1,
            e.b1,
            e.w2,
            e.b2,
            replace(statement, y=bytes(y)),
        )
