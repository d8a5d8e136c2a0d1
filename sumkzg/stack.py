"""
The two-layer stack proof: one zero-knowledge proof that a sensitive partition of two ``QLinear``
layers maps the public ``x`` to the public ``y`` with the intermediate activation ``a`` hidden
(docs/proof-system-stack.md, cited as S1–S10).

Introduction
------------
Both layers are registered with the unchanged v2 registration as two matrices (S1,
:func:`stack_matrices`): ``P = [W1; 0]`` (layer 1 as it is, four zero rows) and ``V`` (layer 2
transposed, ``b2`` as four int8 byte rows, bias column zero). Both have ``m'`` rows, so row ``i``
is at once layer 1's output index and layer 2's input index, and one sumcheck over
``{0,1}^{μ_i + μ_j}`` checks both layers (S5)::

    A1  = eA(i)·[M1·Ŵ_P·x1(j) + δ0(j)·2^{k1−1} − (cρ1 + 2^{k1}·cvp − 2^{k1}·cvm)(j)·Limb1
                 − 2^{k1}·δ0(j)·Act(i)]                                   (requant of layer 1)
    T1  = eA(i)·[δ0(j)·(Act(i) − lo1) − δa(j)·Limb1]                      (a − lo1 is a limb)
    Gm  = eA(i)·(Act(i) − lo1)·cvm(j)·Limb1,  Gp = eA(i)·(127 − Act(i))·cvp(j)·Limb1   (clamp)
    B1a, B2a                                                                (layer-1 lookups)
    A2  = eout(j)·[M2·Ŵ_V·(selA(i)·Act(i) + cb2(i)) + δ0r(i)·(2^{k2−1} + M2·C0 − 2^{k2}·y2(j))
                   − (cρ2(i) + 2^{k2}·σ2(j)·cu2(i))·Limb2]                 (layer 2, transposed)
    B1b, B2b                                                                (layer-2 lookups)
    Pc  = eA(i)·(ψ(j) − δ0(j))·Act(i)                                       (Act is periodic)
    F   = A1 + γ·T1 + γ²·Gm + γ³·Gp + γ⁴·B1a + γ⁵·B2a + γ⁶·A2 + γ⁷·B1b + γ⁸·B2b + γ⁹·Pc

The hidden activation is the row vector ``Act`` (``a``, then two blinding entries), committed as
the periodic chunk ``Act_chunk[f] = Act(f mod m')`` and opened without chunk weight; ``Pc``
forces every row ``i < m1`` of that chunk to be constant along the in-chunk column variables, so
that the value read at every column is the same ``a_i`` (without it, a prover could commit a
non-periodic chunk and feed different ``a`` to the clamp checks and to layer 2).

:func:`build_stack_witness` and :func:`prove_stack_with_witness` are separate so that tests can
prove from a malicious witness; :func:`prove_stack` is the honest composition and
:func:`verify_stack` the verifier.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import G1Point

from protocol.exceptions import ProtocolError
from protocol.requant import Activation, requant_array

from .accel import int_gemv
from .batch import (
    DegenerateDrawError,
    ZkMasks,
    ZkOpeningProof,
    add_blinding,
    combine_chunks,
    powers,
    round1_challenges,
    start_transcript,
    with_fresh_masks,
)
from .curve import commit, commit_periodic, encode_g1, msm
from .errors import ProofRejected, WitnessError
from .field import R, batch_inv, eq_eval, eq_table, mle_eval, scalar_to_bytes
from .hyperkzg import open_multilinear, verify_opening
from .inference import WeightMaskAddend
from .layout import (
    BYTE_TABLE_SIZE,
    Layout,
    LayoutError,
    column_eq_values,
    dense_mle,
    eq_prefix,
    x_column,
)
from .libra import LibraAddend, check_sum_identity, grand_sum_hat, quotient_hat
from .proof import weight_commitment_hash
from .registration import (
    WeightCommitment,
    _check_setup,
    add_entries,
    blinding_rows,
    check_weights,
    commit_chunks,
    draw_nonzero,
    flat_grid,
    grid_flat,
    inverse_lookup,
    reject_masks_at_infinity,
    weight_flat,
)
from .setup import LOG_D, D, Setup
from .stack_proof import (
    ACT_SLOT,
    DOMAIN_STACK,
    OPENED_COUNT,
    STACK_EXTRA_ROWS,
    V_SLOT,
    StackError,
    StackLayer,
    StackLayout,
    StackProof,
    StackStatement,
    encode_points,
    stack_commitment_hash,
)
from .sumcheck import (
    Grid,
    ObjArray,
    PeriodicGrid,
    RoundMessage,
    SumcheckProver,
    Table,
    Term,
    Vec,
    WeightGrid,
    obj_array,
    prove_rounds,
    verify_rounds,
)
from .transcript import (
    TAG_EVALUATIONS,
    TAG_LIBRA_QUOTIENT,
    TAG_LIBRA_SUM_COMMIT,
    TAG_ROUND2,
    Transcript,
)

__all__ = [
    "DOMAIN_STACK",
    "STACK_EXTRA_ROWS",
    "StackChallenges",
    "StackError",
    "StackLayer",
    "StackLayout",
    "StackMasks",
    "StackProof",
    "StackProverHooks",
    "StackStatement",
    "StackWitness",
    "build_stack_witness",
    "prove_stack",
    "prove_stack_with_witness",
    "stack_commitment_hash",
    "stack_matrices",
    "stack_proof_len",
    "verify_stack",
]

C0 = 128 * (1 + 2**8 + 2**16 + 2**24) - 2**31
"""``Σ_t 2^{8t}·128 − 2^31``: adds the bias bytes' offset back (S4)."""
BIAS_OFFSET = 2**31
HI = 127

Int64s = npt.NDArray[np.int64]
Int8s = npt.NDArray[np.int8]
RuntimeOutputs = tuple[Int64s, Int8s, Int64s, Int8s]
"""``(z1, a, z2, y)``: the two accumulators and the two layers' outputs."""


# --------------------------------------------------------------------------------------------------
# S1: the two registered matrices


def stack_matrices(
    w1: npt.NDArray[np.integer],
    b1: npt.NDArray[np.integer],
    w2: npt.NDArray[np.integer],
    b2: npt.NDArray[np.integer],
) -> tuple[
    tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]],
    tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]],
]:
    """
    The two matrices a stack registers (S1), ready for
    :func:`~sumkzg.registration.commit_weights`.

    Returns
    -------
    (p_weights, p_bias), (v_weights, v_bias)
        ``P = [W1; 0]`` (``int8``, ``(m1 + 4) × n1``) with bias ``[b1; 0, 0, 0, 0]``; ``V``
        (``int8``, ``(n2 + 4) × m2``) with ``V(j, c) = W2(c, j)`` and
        ``V(n2 + t, c) = byte_t(b2_c + 2^31) − 128``, bias all zero (``(n2 + 4,)``: one entry
        per row of ``V``).

    Raises
    ------
    StackError
        If a weight is not a 2-D ``int8`` array, a bias not an int32 vector of its layer's
        outputs, ``n2 != m1``, or a matrix is refused by :meth:`~sumkzg.layout.Layout.of` (the
        registration's limits; the proof's own limits, which depend on the shifts, are checked
        by :class:`StackStatement`).
    """
    try:
        w1_, b1_ = check_weights(w1, b1)
        w2_, b2_ = check_weights(w2, b2)
    except WitnessError as error:
        raise StackError(str(error)) from error
    m1, n1 = w1_.shape
    m2, n2 = w2_.shape
    if n2 != m1:
        raise StackError(f"layer 2 takes {n2} inputs, layer 1 gives {m1}")
    try:
        Layout.of(m1 + STACK_EXTRA_ROWS, n1)
        Layout.of(n2 + STACK_EXTRA_ROWS, m2)
    except LayoutError as error:
        raise StackError(f"stack refused: {error}") from error
    p_w = np.zeros((m1 + STACK_EXTRA_ROWS, n1), dtype=np.int8)
    p_w[:m1] = w1_.astype(np.int8)
    p_b = np.zeros(m1 + STACK_EXTRA_ROWS, dtype=np.int64)
    p_b[:m1] = b1_
    v_w = np.zeros((n2 + STACK_EXTRA_ROWS, m2), dtype=np.int64)
    v_w[:n2] = w2_.T
    shifted = b2_ + BIAS_OFFSET
    for t in range(STACK_EXTRA_ROWS):
        v_w[n2 + t] = ((shifted >> (8 * t)) & 0xFF) - 128
    v_b = np.zeros(n2 + STACK_EXTRA_ROWS, dtype=np.int64)
    return (p_w, p_b), (v_w.astype(np.int8), v_b)


def stack_proof_len(statement: StackStatement) -> int:
    """The exact byte length of a proof of ``statement`` (S7)."""
    return statement.layout.byte_len


# --------------------------------------------------------------------------------------------------
# S3: the witness


@dataclass(frozen=True)
class StackWitness:
    """
    The stack prover's witness (before ``α``).

    Attributes
    ----------
    activation :
        ``a``: ``m1`` field elements (honestly ``clamp(q, lo1, 127)``, the runtime's layer-1
        output). The rows ``m1, m1 + 1`` of ``Act`` are blinding entries drawn per proof.
    limbs1 :
        ``Limb1``: ``m' × L1`` field elements: the bytes of ``ρ`` (``Kρ1``), of ``v⁺`` and of
        ``v⁻`` (``Ku1`` each), then ``a − lo1`` (honestly zero on the rows ``>= m1``).
    limbs2 :
        Layer 2's limbs: ``L2 × m2`` field elements, column ``c`` the bytes of ``ρ_c`` then of
        ``u_c`` (placed at ``Limb2(t, pos_V(c))``).
    multiplicities1, multiplicities2 :
        ``Mu1`` (``TS1``) and ``Mu2`` (``TS2``) entries.
    """

    activation: ObjArray
    limbs1: ObjArray
    limbs2: ObjArray
    multiplicities1: tuple[int, ...]
    multiplicities2: tuple[int, ...]


def _limb_bytes(values: npt.NDArray[np.int64], count: int) -> list[npt.NDArray[np.int64]]:
    return [(values >> np.int64(8 * t)) & 0xFF for t in range(count)]


def _requant_parts(
    z: npt.NDArray[np.int64], multiplier: int, shift: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(q, ρ)`` with ``M·z + 2^{k−1} = 2^k·q + ρ`` (exact in int64: ``|M·z| < 2^62``)."""
    t = z * np.int64(multiplier) + np.int64(1 << (shift - 1))
    return t >> np.int64(shift), t & np.int64((1 << shift) - 1)


def runtime_outputs(
    w1: npt.NDArray[np.int64],
    b1: npt.NDArray[np.int64],
    w2: npt.NDArray[np.int64],
    b2: npt.NDArray[np.int64],
    statement: StackStatement,
) -> RuntimeOutputs:
    """
    ``(z1, a, z2, y)`` by the runtime's rule (:func:`protocol.requant.requant_array`).

    Raises
    ------
    WitnessError
        If the runtime refuses (an accumulator ``|z| >= 2^31``).
    """
    l1, l2 = statement.layer1, statement.layer2
    try:
        z1 = int_gemv(w1, statement.x_array(), b1)
        a = requant_array(z1, l1.multiplier, l1.shift, Activation(l1.activation))
        z2 = int_gemv(w2, a, b2)
        y = requant_array(z2, l2.multiplier, l2.shift, Activation(l2.activation))
    except ProtocolError as error:
        raise WitnessError(f"the runtime refuses this stack and input: {error}") from error
    return z1, a, z2, y


def build_stack_witness(
    w1: npt.NDArray[np.int64],
    b1: npt.NDArray[np.int64],
    w2: npt.NDArray[np.int64],
    b2: npt.NDArray[np.int64],
    statement: StackStatement,
) -> StackWitness:
    """
    The honest witness (S3), after checking the statement's ``y`` against the runtime's.

    Raises
    ------
    WitnessError
        If the runtime's ``y`` differs from ``statement.y`` (or the runtime refuses the input).
    """
    l1 = statement.layer1
    z1, a, _z2, y = runtime_outputs(w1, b1, w2, b2, statement)
    if bytes(y.astype(np.int8).tobytes()) != statement.y:
        raise WitnessError("the statement's y is not what the runtime computes")
    q1, rho1 = _requant_parts(z1, l1.multiplier, l1.shift)
    a64 = a.astype(np.int64)
    v_plus = np.maximum(q1 - a64, 0)
    v_minus = np.maximum(a64 - q1, 0)
    return witness_from_activation(w2, b2, statement, a64, rho1, v_plus, v_minus)


def witness_from_activation(
    w2: npt.NDArray[np.int64],
    b2: npt.NDArray[np.int64],
    statement: StackStatement,
    a: npt.NDArray[np.int64],
    rho1: npt.NDArray[np.int64],
    v_plus: npt.NDArray[np.int64],
    v_minus: npt.NDArray[np.int64],
) -> StackWitness:
    """
    The witness for a given (possibly false) layer-1 decomposition ``(a, ρ, v⁺, v⁻)``: layer 2's
    limbs are computed from ``a`` and the statement's ``y`` (TESTS use it to build malicious
    witnesses; the honest path is :func:`build_stack_witness`).

    Raises
    ------
    WitnessError
        If layer 2's identity has no non-negative slack for this ``a`` and ``y`` or a value does
        not fit its limbs.
    """
    lay = statement.layout
    l1, l2 = statement.layer1, statement.layer2
    m1, mp = l1.m, lay.m_pad
    cols1 = _limb_bytes(rho1, lay.k_rho1)
    cols1 += _limb_bytes(v_plus, lay.k_u1) + _limb_bytes(v_minus, lay.k_u1)
    cols1.append(a - l1.low)
    limbs1 = np.zeros((mp, lay.limbs1), dtype=np.int64)
    limbs1[:m1] = np.stack(cols1, axis=1)
    lookups1 = limbs1[:m1].copy()
    lookups1[:, lay.k_rho1 - 1] += BYTE_TABLE_SIZE
    if l1.activation == 1:
        lookups1[:, lay.ja] += BYTE_TABLE_SIZE + (1 << lay.k_top1)

    z2 = int_gemv(w2, a, b2)
    q2, rho2 = _requant_parts(z2, l2.multiplier, l2.shift)
    y = np.array(statement.y_values, dtype=np.int64)
    sigma = np.array(_sigma2(statement), dtype=np.int64)
    u = sigma * (q2 - y)
    if np.any(u < 0) or np.any(y + sigma * u != q2):
        raise WitnessError("layer 2's remainder identity has no non-negative slack")
    limbs2 = np.stack(_limb_bytes(rho2, lay.k_rho2) + _limb_bytes(u, lay.k_u2), axis=0)
    lookups2 = limbs2.copy()
    lookups2[lay.k_rho2 - 1] += BYTE_TABLE_SIZE
    return StackWitness(
        activation=obj_array(a),
        limbs1=obj_array(limbs1),
        limbs2=obj_array(limbs2),
        multiplicities1=_counts(lookups1, lay.table1),
        multiplicities2=_counts(lookups2, lay.table2),
    )


def _counts(lookups: npt.NDArray[np.int64], size: int) -> tuple[int, ...]:
    """The multiplicity of each table index ``< size`` (an out-of-range value counts nowhere)."""
    flat = lookups.reshape(-1)
    inside = flat[(flat >= 0) & (flat < size)]
    return tuple(int(c) for c in np.bincount(inside, minlength=size))


def _sigma2(statement: StackStatement) -> list[int]:
    lo = statement.layer2.low
    return [-1 if v == lo else 1 if v == HI else 0 for v in statement.y_values]


# --------------------------------------------------------------------------------------------------
# Public vectors (S2 tables, S4)


def table_values1(lay: StackLayout, lam: int) -> list[int]:
    """``T1``: the bytes, ``λ + (0..2^{k1'})`` and, for relu, ``2λ + (0..128)`` (S2)."""
    out = list(range(BYTE_TABLE_SIZE))
    out += [(lam + t) % R for t in range(1 << lay.k_top1)]
    if lay.layer1.activation == 1:
        out += [(2 * lam + t) % R for t in range(128)]
    return out


def table_values2(lay: StackLayout, lam: int) -> list[int]:
    """``T2``: the bytes and ``λ + (0..2^{k2'})`` (S2)."""
    return list(range(BYTE_TABLE_SIZE)) + [(lam + t) % R for t in range(1 << lay.k_top2)]


def _t_alpha(alpha: int, values: Sequence[int]) -> list[int]:
    try:
        return batch_inv([(alpha - t) % R for t in values])
    except ZeroDivisionError as error:
        raise ProofRejected("the lookup challenge α hits a table value") from error


@dataclass(frozen=True)
class Columns:
    """The public vectors as short lists (their non-zero prefixes), S4."""

    x1: list[int]
    crho1: list[int]
    cvp: list[int]
    cvm: list[int]
    delta_a: list[int]
    sel1: list[int]
    shift1: list[int]
    d2: list[int]
    y2: list[int]
    sigma2: list[int]
    sel_a: list[int]
    cb2: list[int]
    crho2: list[int]
    cu2: list[int]
    sel2: list[int]
    top2: list[int]

    @staticmethod
    def of(statement: StackStatement) -> Columns:
        """Build every challenge-free public vector of ``statement``."""
        lay = statement.layout
        kr1, ku1, kr2, ku2 = lay.k_rho1, lay.k_u1, lay.k_rho2, lay.k_u2
        pos_v = [int(p) for p in lay.lv.positions()[: lay.layer2.m]]
        d2 = [0] * lay.cols2
        y2 = [0] * lay.cols2
        sigma2 = [0] * lay.cols2
        for c, (p, yc, sc) in enumerate(
            zip(pos_v, statement.y_values, _sigma2(statement), strict=True)
        ):
            del c
            d2[p], y2[p], sigma2[p] = 1, yc, sc
        shift1 = [0] * lay.limbs1
        shift1[kr1 - 1] = 1
        if lay.layer1.activation == 1:
            shift1[lay.ja] = 2
        n2 = lay.layer2.n
        return Columns(
            x1=x_column(lay.lp, statement.x_values),
            crho1=[1 << (8 * j) for j in range(kr1)],
            cvp=[0] * kr1 + [1 << (8 * t) for t in range(ku1)],
            cvm=[0] * (kr1 + ku1) + [1 << (8 * t) for t in range(ku1)],
            delta_a=[0] * lay.ja + [1],
            sel1=[1] * lay.limbs1,
            shift1=shift1,
            d2=d2,
            y2=y2,
            sigma2=sigma2,
            sel_a=[1] * n2,
            cb2=[0] * n2 + [1 << (8 * t) for t in range(STACK_EXTRA_ROWS)],
            crho2=[1 << (8 * i) for i in range(kr2)],
            cu2=[0] * kr2 + [1 << (8 * t) for t in range(ku2)],
            sel2=[1] * lay.limbs2,
            top2=[0] * (kr2 - 1) + [1],
        )


@dataclass(frozen=True)
class StackChallenges:
    """
    The challenges drawn before the sumcheck: ``α``, ``λ`` (round 1), ``τ_A``, ``τ_B``, ``τ″``,
    ``γ``, ``ρ_L`` (round 2).
    """

    alpha: int
    lam: int
    tau_a: list[int]
    tau_b: list[int]
    tau2: list[int]
    gamma: int
    rho_l: int


def round2_stack_challenges(
    tr: Transcript, points: Sequence[G1Point], lay: StackLayout
) -> tuple[list[int], list[int], list[int], int, int]:
    """
    Absorb ``C_H1 ‖ C_H2`` (tag ``0x02``), draw ``τ_A`` (``μ_i``), ``τ_B`` (``μ_j``), ``τ″``
    (``ℓ``), ``γ``, ``ρ_L`` (S6 step 3; the caller rejects ``ρ_L = 0``).
    """
    tr.absorb(TAG_ROUND2, encode_points(list(points)))
    tau_a = tr.challenges(lay.mu_i)
    tau_b = tr.challenges(lay.mu_j)
    tau2 = tr.challenges(lay.ell)
    gamma = tr.challenge()
    return tau_a, tau_b, tau2, gamma, tr.challenge()


def _gammas(gamma: int) -> list[int]:
    return powers(gamma, 10)


def final_value(
    statement: StackStatement,
    ch: StackChallenges,
    point: Sequence[int],
    evals: Sequence[int],
) -> int:
    """
    ``F(u)`` (S5) from the nine opened evaluations and the public vectors' MLEs at ``u``
    (S4); the verifier requires ``claim = F(u) + ρ_L·s_G``.
    """
    lay = statement.layout
    l1, l2 = lay.layer1, lay.layer2
    cols = Columns.of(statement)
    u_i, u_j = list(point[: lay.mu_i]), list(point[lay.mu_i :])
    er = eq_prefix(u_i, lay.m_pad)
    pos_p = [int(p) for p in lay.lp.positions()]
    pos_v = [int(p) for p in lay.lv.positions()[: l2.m]]
    size = max(pos_p[-1] + 1, lay.cols2, lay.limbs1)
    ec = eq_prefix(u_j, size)

    def dot(values: Sequence[int], table: Sequence[int]) -> int:
        return sum(int(v) * t for v, t in zip(values, table, strict=False)) % R

    tau2_i, tau2_j = ch.tau2[: lay.mu_i], ch.tau2[lay.mu_i :]
    e_a = dot(eq_table(ch.tau_a)[: l1.m], er)
    sel_a, cb2, crho2, cu2 = (dot(getattr(cols, n), er) for n in ("sel_a", "cb2", "crho2", "cu2"))
    sel2, top2, d0r = dot(cols.sel2, er), dot(cols.top2, er), er[0]
    e2r = dot(column_eq_values(tau2_i, range(lay.limbs2)), er)
    sel_r1 = sum(er[: l1.m]) % R
    e1r = dot(eq_table(tau2_i)[: l1.m], er)
    x1 = dot(cols.x1, ec)
    crho1, cvp, cvm = dot(cols.crho1, ec), dot(cols.cvp, ec), dot(cols.cvm, ec)
    delta0, delta_a = ec[0], ec[lay.ja]
    sel1, shift1 = dot(cols.sel1, ec), dot(cols.shift1, ec)
    e1 = dot(column_eq_values(tau2_j, range(lay.limbs1)), ec)
    eout = dot(column_eq_values(ch.tau_b, pos_v), ec)
    d2, y2, sigma2 = dot(cols.d2, ec), dot(cols.y2, ec), dot(cols.sigma2, ec)
    e2c = dot(column_eq_values(tau2_j, pos_v), ec)
    b = lay.cpc_bits
    psi = eq_eval(ch.tau_b[:b], u_j[:b])
    for v in u_j[b:]:
        psi = psi * (1 - v) % R
    t1 = dense_mle(_t_alpha(ch.alpha, table_values1(lay, ch.lam)), point)
    t2 = dense_mle(_t_alpha(ch.alpha, table_values2(lay, ch.lam)), point)

    wp, limb1, h1, mu1, act, wv, limb2, h2, mu2 = (int(e) for e in evals[:OPENED_COUNT])
    k1, k2 = l1.shift, l2.shift
    lo1 = l1.low
    alpha, lam = ch.alpha, ch.lam
    g = _gammas(ch.gamma)
    a1 = e_a * (
        l1.multiplier * wp * x1
        + delta0 * (1 << (k1 - 1))
        - (crho1 + (1 << k1) * cvp - (1 << k1) * cvm) * limb1
        - (1 << k1) * delta0 * act
    )
    t1_ = e_a * (delta0 * (act - lo1) - delta_a * limb1)
    gm = e_a * (act - lo1) * cvm * limb1
    gp = e_a * (HI - act) * cvp * limb1
    b1a = sel_r1 * sel1 * h1 - mu1 * t1
    b2a = e1r * e1 * (h1 * (alpha - limb1 - lam * shift1) - 1)
    a2 = eout * (
        l2.multiplier * wv * (sel_a * act + cb2)
        + d0r * ((1 << (k2 - 1)) + l2.multiplier * C0 - (1 << k2) * y2)
        - (crho2 + (1 << k2) * sigma2 * cu2) * limb2
    )
    b1b = sel2 * d2 * h2 - mu2 * t2
    b2b = e2r * e2c * (h2 * (alpha - limb2 - lam * top2) - 1)
    pc = e_a * (psi - delta0) * act
    parts = [a1, t1_, gm, gp, b1a, b2a, a2, b1b, b2b, pc]
    return sum(gk * p for gk, p in zip(g, parts, strict=True)) % R


def _terms(statement: StackStatement, ch: StackChallenges) -> list[Term]:
    """The terms of ``F`` (S5) for the engine, like factors merged."""
    l1, l2 = statement.layer1, statement.layer2
    k1, k2, lo1 = l1.shift, l2.shift, l1.low
    alpha, lam = ch.alpha, ch.lam
    g = _gammas(ch.gamma)
    two_k1, two_k2 = 1 << k1, 1 << k2
    return [
        # A1, T1, Gm, Gp, Pc
        Term(l1.multiplier, ("eA", "P", "x1")),
        Term((1 << (k1 - 1)) - g[1] * lo1, ("eA", "delta0")),
        Term(-1, ("eA", "crho1", "Limb1")),
        Term(-two_k1 + HI * g[3], ("eA", "cvp", "Limb1")),
        Term(two_k1 - g[2] * lo1, ("eA", "cvm", "Limb1")),
        Term(-two_k1 + g[1] - g[9], ("eA", "delta0", "Act")),
        Term(-g[1], ("eA", "delta_a", "Limb1")),
        Term(g[2], ("eA", "Act", "cvm", "Limb1")),
        Term(-g[3], ("eA", "Act", "cvp", "Limb1")),
        Term(g[9], ("eA", "psi", "Act")),
        # B1a, B2a
        Term(g[4], ("selR1", "sel1", "H1")),
        Term(-g[4], ("Mu1", "T1")),
        Term(g[5] * alpha, ("e1r", "e1", "H1")),
        Term(-g[5], ("e1r", "e1", "H1", "Limb1")),
        Term(-g[5] * lam, ("e1r", "e1", "shift1", "H1")),
        Term(-g[5], ("e1r", "e1")),
        # A2
        Term(g[6] * l2.multiplier, ("eout", "V", "selA", "Act")),
        Term(g[6] * l2.multiplier, ("eout", "V", "cb2")),
        Term(g[6] * ((1 << (k2 - 1)) + l2.multiplier * C0), ("eout", "d0r")),
        Term(-g[6] * two_k2, ("eout", "d0r", "y2")),
        Term(-g[6], ("eout", "crho2", "Limb2")),
        Term(-g[6] * two_k2, ("eout", "sigma2", "cu2", "Limb2")),
        # B1b, B2b
        Term(g[7], ("sel2", "d2", "H2")),
        Term(-g[7], ("Mu2", "T2")),
        Term(g[8] * alpha, ("e2r", "e2c", "H2")),
        Term(-g[8], ("e2r", "e2c", "H2", "Limb2")),
        Term(-g[8] * lam, ("e2r", "top2", "e2c", "H2")),
        Term(-g[8], ("e2r", "e2c")),
    ]


# --------------------------------------------------------------------------------------------------
# The prover


@dataclass
class StackMasks:
    """
    Every fresh mask of one proof (Z0): the Libra and Gemini masks, two blinding entries for each
    of ``Limb1, H1, Mu1, Act, Limb2, H2, Mu2``, and the weight masks ``R1``, ``R2`` (``D/2``
    each).
    """

    zk: ZkMasks
    limb1: list[int]
    h1: list[int]
    mu1: list[int]
    act: list[int]
    limb2: list[int]
    h2: list[int]
    mu2: list[int]
    r1: list[int]
    r2: list[int]

    @staticmethod
    def draw(lay: StackLayout, rng: random.Random | None = None) -> StackMasks:
        """
        Draw every mask uniformly from ``F \\ {0}`` (``rng``: TESTS ONLY): two blinding entries
        per chunk of ``Limb1, H1`` (``2·K_L1``) and ``Limb2, H2`` (``2·K_L2``), two for ``Mu1``,
        ``Act``, ``Mu2``.
        """
        zk = ZkMasks.draw(lay.ell, rng)
        k1, k2 = 2 * lay.k_l1, 2 * lay.k_l2
        return StackMasks(
            zk,
            limb1=draw_nonzero(k1, rng),
            h1=draw_nonzero(k1, rng),
            mu1=draw_nonzero(2, rng),
            act=draw_nonzero(2, rng),
            limb2=draw_nonzero(k2, rng),
            h2=draw_nonzero(k2, rng),
            mu2=draw_nonzero(2, rng),
            r1=draw_nonzero(D // 2, rng),
            r2=draw_nonzero(D // 2, rng),
        )


@dataclass(frozen=True)
class StackProverHooks:
    """
    TESTS ONLY: hook points of :func:`prove_stack_with_witness`; honest provers pass none.

    Attributes
    ----------
    statement_bytes :
        Given the statement bytes, returns the bytes absorbed with tag ``0x00`` instead.
    masks :
        Given the freshly drawn :class:`StackMasks`, returns the masks used instead.
    round_message :
        Per sumcheck round: see :data:`sumkzg.sumcheck.RoundMessage`.
    act_chunk :
        Given the honest periodic ``Act_chunk`` (``D`` entries), returns the chunk committed and
        opened instead (a non-periodic ``Act``; the sumcheck still uses ``a``).
    """

    statement_bytes: Callable[[bytes], bytes] | None = None
    masks: Callable[[StackMasks], StackMasks] | None = None
    round_message: RoundMessage | None = None
    act_chunk: Callable[[list[int]], list[int]] | None = None


def _blinding_positions(row: int, chunks: int) -> list[tuple[int, int]]:
    """
    The blinding entries ``(row, cpc·κ)``, ``(row + 1, cpc·κ)`` of every chunk ``κ`` (S3): the
    first column of each chunk, at two rows that no relation term reads. As ``(i, κ)`` pairs: the
    flat index is ``κ·D + i``.
    """
    return [(row + r, kappa) for kappa in range(chunks) for r in (0, 1)]


def _entries(positions: list[tuple[int, int]], values: Sequence[int]) -> dict[int, int]:
    return {kappa * D + i: int(v) for (i, kappa), v in zip(positions, values, strict=True)}


def _with_entries(
    grid: ObjArray, positions: list[tuple[int, int]], values: Sequence[int]
) -> ObjArray:
    """``grid`` (``m'`` rows) plus the blinding entries (column ``cpc·κ = κ·D/m'``)."""
    out = np.asarray(grid, dtype=object).copy()
    cpc = D // out.shape[0]
    for (i, kappa), v in zip(positions, values, strict=True):
        out[i, kappa * cpc] = (out[i, kappa * cpc] + int(v)) % R
    return obj_array(out)


def _grid(rows: int, cols: int) -> ObjArray:
    out = np.empty((rows, cols), dtype=object)
    out.fill(0)
    return out


def _check_inputs(
    setup: Setup,
    commit_p: WeightCommitment,
    commit_v: WeightCommitment,
    w1: npt.NDArray[np.integer],
    b1: npt.NDArray[np.integer],
    w2: npt.NDArray[np.integer],
    b2: npt.NDArray[np.integer],
    statement: StackStatement,
) -> tuple[npt.NDArray[np.int64], ...]:
    w1_, b1_ = check_weights(w1, b1)
    w2_, b2_ = check_weights(w2, b2)
    l1, l2 = statement.layer1, statement.layer2
    if w1_.shape != (l1.m, l1.n) or w2_.shape != (l2.m, l2.n):
        raise WitnessError("the weights and the statement disagree on the shapes")
    lay = statement.layout
    if (commit_p.m, commit_p.n) != (lay.lp.m, lay.lp.n) or (commit_v.m, commit_v.n) != (
        lay.lv.m,
        lay.lv.n,
    ):
        raise WitnessError("the commitments and the statement disagree on the shapes")
    if commit_p.h_w != statement.h_p or commit_v.h_w != statement.h_v:
        raise WitnessError("the statement's H_P / H_V are not the commitments'")
    if commit_p.setup_id != setup.setup_id or commit_v.setup_id != setup.setup_id:
        raise WitnessError("a commitment was made with another setup")
    return w1_, b1_, w2_, b2_


def prove_stack(
    setup: Setup,
    commit_p: WeightCommitment,
    commit_v: WeightCommitment,
    w1: npt.NDArray[np.integer],
    b1: npt.NDArray[np.integer],
    w2: npt.NDArray[np.integer],
    b2: npt.NDArray[np.integer],
    statement: StackStatement,
    *,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove that the committed stack maps ``statement.x`` to ``statement.y``, in zero knowledge.

    Parameters
    ----------
    setup :
        The setup the commitments were made with.
    commit_p, commit_v :
        :func:`~sumkzg.registration.commit_weights` of the two matrices of
        :func:`stack_matrices` (their ``h_w`` are the statement's ``h_p``, ``h_v``).
    w1, b1, w2, b2 :
        The layers (``int8`` weights, int32 biases).
    statement :
        What to prove.
    rng :
        TESTS ONLY: a deterministic source for the masks; ``None`` draws them from
        :mod:`secrets`.

    Returns
    -------
    proof : `bytes`
        The S7 proof.

    Raises
    ------
    WitnessError
        If ``y`` is not what the runtime computes, or the inputs disagree with each other.
    """
    _check_setup(setup)
    w1_, b1_, w2_, b2_ = _check_inputs(setup, commit_p, commit_v, w1, b1, w2, b2, statement)
    witness = build_stack_witness(w1_, b1_, w2_, b2_, statement)
    return prove_stack_with_witness(
        setup, commit_p, commit_v, w1_, b1_, w2_, b2_, statement, witness, rng=rng
    )


def prove_stack_with_witness(
    setup: Setup,
    commit_p: WeightCommitment,
    commit_v: WeightCommitment,
    w1: npt.NDArray[np.int64],
    b1: npt.NDArray[np.int64],
    w2: npt.NDArray[np.int64],
    b2: npt.NDArray[np.int64],
    statement: StackStatement,
    witness: StackWitness,
    *,
    hooks: StackProverHooks | None = None,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove from a given witness without checking it (tests inject malicious witnesses here; the
    honest path is :func:`prove_stack`). ``H1``, ``H2`` are derived from the limbs and ``α``.
    A degenerate draw (``ρ_L = 0``, ``u_ℓ(1 − u_ℓ) = 0``) is retried with fresh masks unless a
    hook forces them.

    Raises
    ------
    WitnessError
        If ``α`` hits a looked-up value, a mask commitment is at infinity, or a degenerate
        challenge cannot be retried.
    """
    _check_setup(setup)
    return with_fresh_masks(
        lambda: _prove(setup, commit_p, commit_v, w1, b1, w2, b2, statement, witness, hooks, rng),
        fixed=hooks is not None and hooks.masks is not None,
    )


def _prove(
    setup: Setup,
    commit_p: WeightCommitment,
    commit_v: WeightCommitment,
    w1: npt.NDArray[np.int64],
    b1: npt.NDArray[np.int64],
    w2: npt.NDArray[np.int64],
    b2: npt.NDArray[np.int64],
    statement: StackStatement,
    witness: StackWitness,
    hooks: StackProverHooks | None,
    rng: random.Random | None,
) -> bytes:
    lay = statement.layout
    l1, l2 = lay.layer1, lay.layer2
    mp, n_l1, n_l2 = lay.m_pad, lay.limbs1, lay.limbs2
    hooks = hooks if hooks is not None else StackProverHooks()
    statement_bytes = statement.to_bytes(setup.setup_id)
    if hooks.statement_bytes is not None:
        statement_bytes = hooks.statement_bytes(statement_bytes)
    tr = start_transcript(DOMAIN_STACK, statement_bytes, None)
    masks = StackMasks.draw(lay, rng)
    if hooks.masks is not None:
        masks = hooks.masks(masks)
    (p_w, p_b), (v_w, v_b) = stack_matrices(w1.astype(np.int8), b1, w2.astype(np.int8), b2)
    p_w64, v_w64 = p_w.astype(np.int64), v_w.astype(np.int64)

    # Round 1: Limb1, Mu1, Act, Limb2, Mu2, R1, R2, Lib, Mk, Γ.
    limbs1 = np.asarray(witness.limbs1, dtype=object)
    blind1 = _blinding_positions(l1.m, lay.k_l1)
    limb1_grid = _with_entries(limbs1, blind1, masks.limb1)
    c_limb1 = add_entries(
        setup, commit_chunks(setup, grid_flat(limbs1), lay.k_l1), _entries(blind1, masks.limb1)
    )
    ts1, ts2 = lay.table1, lay.table2
    mu1_flat = obj_array([*witness.multiplicities1, *masks.mu1])
    c_mu1 = add_entries(
        setup,
        commit_chunks(setup, obj_array(list(witness.multiplicities1)), 1),
        {ts1: masks.mu1[0], ts1 + 1: masks.mu1[1]},
    )[0]
    act = _grid(mp, 1)[:, 0]
    act[: l1.m] = witness.activation
    act[l1.m], act[l1.m + 1] = masks.act
    act = obj_array(act)
    act_chunk = [int(v) for v in np.tile(act, D // mp)]
    if hooks.act_chunk is not None:
        act_chunk = [int(v) % R for v in hooks.act_chunk(act_chunk)]
    if hooks.act_chunk is None:
        c_act = commit_periodic(setup, [int(v) for v in act], mp)  # = commit(setup, act_chunk)
    else:
        c_act = commit(setup, act_chunk)
    if c_act == G1Point.identity():
        raise WitnessError("C_Act is the point at infinity: draw fresh masks")
    pos_v = lay.lv.positions()[: l2.m]
    blind2 = _blinding_positions(n_l2, lay.k_l2)
    limb2_bare = _grid(mp, lay.cols2)
    limb2_bare[:n_l2, pos_v] = np.asarray(witness.limbs2, dtype=object)
    limb2_grid = _with_entries(limb2_bare, blind2, masks.limb2)
    limb2_flat = grid_flat(limb2_grid)
    c_limb2 = add_entries(
        setup,
        commit_chunks(setup, grid_flat(limb2_bare), lay.k_l2),
        _entries(blind2, masks.limb2),
    )
    mu2_flat = obj_array([*witness.multiplicities2, *masks.mu2])
    c_mu2 = add_entries(
        setup,
        commit_chunks(setup, obj_array(list(witness.multiplicities2)), 1),
        {ts2: masks.mu2[0], ts2 + 1: masks.mu2[1]},
    )[0]
    r1_chunk, r2_chunk = [*masks.r1, *masks.r1], [*masks.r2, *masks.r2]
    c_r1 = commit_periodic(setup, masks.r1, D // 2)  # = commit(setup, r1_chunk)
    c_r2 = commit_periodic(setup, masks.r2, D // 2)
    if G1Point.identity() in (c_r1, c_r2):
        raise WitnessError("C_R1 or C_R2 is the point at infinity: draw fresh masks")
    c_lib, c_mk = masks.zk.commitments(setup)
    libra_sum = masks.zk.libra.total_sum()
    round1 = [*c_limb1, c_mu1, c_act, *c_limb2, c_mu2, c_r1, c_r2, c_lib, c_mk]
    alpha, lam = round1_challenges(tr, round1, 2, libra_sum)

    # Round 2: H1, H2.
    look1 = limbs1[: l1.m].copy()
    look1[:, lay.k_rho1 - 1] = (look1[:, lay.k_rho1 - 1] + lam) % R
    if l1.activation == 1:
        look1[:, lay.ja] = (look1[:, lay.ja] + 2 * lam) % R
    h1_bare = _grid(mp, n_l1)
    h1_bare[: l1.m] = inverse_lookup(look1, alpha).values
    h1 = _with_entries(h1_bare, blind1, masks.h1)
    c_h1 = add_entries(
        setup, commit_chunks(setup, grid_flat(h1_bare), lay.k_l1), _entries(blind1, masks.h1)
    )
    look2 = np.asarray(witness.limbs2, dtype=object).copy()
    look2[lay.k_rho2 - 1] = (look2[lay.k_rho2 - 1] + lam) % R
    h2_bare = _grid(mp, lay.cols2)
    h2_bare[:n_l2, pos_v] = inverse_lookup(look2, alpha).values
    h2 = _with_entries(h2_bare, blind2, masks.h2)
    h2_flat = grid_flat(h2)
    c_h2 = add_entries(
        setup, commit_chunks(setup, grid_flat(h2_bare), lay.k_l2), _entries(blind2, masks.h2)
    )
    tau_a, tau_b, tau2, gamma, rho_l = round2_stack_challenges(tr, [*c_h1, *c_h2], lay)
    if rho_l == 0:
        raise DegenerateDrawError
    ch = StackChallenges(alpha, lam, tau_a, tau_b, tau2, gamma, rho_l)

    # The sumcheck.
    cols = Columns.of(statement)
    blind_p = blinding_rows(lay.lp, commit_p.blinding)
    blind_v = blinding_rows(lay.lv, commit_v.blinding)
    ints_p = np.concatenate([p_w64, p_b.reshape(-1, 1)], axis=1)
    ints_v = np.concatenate([v_w64, v_b.reshape(-1, 1)], axis=1)
    tau2_i, tau2_j = tau2[: lay.mu_i], tau2[lay.mu_i :]
    e_a = eq_table(tau_a)[: l1.m]
    eout = column_eq_values(tau_b, pos_v)
    t1 = _t_alpha(alpha, table_values1(lay, lam))
    t2 = _t_alpha(alpha, table_values2(lay, lam))
    psi = eq_table(tau_b[: lay.cpc_bits])
    tables: dict[str, Table] = {
        "eA": Vec("i", e_a),
        "Act": Vec("i", act),
        "selA": Vec("i", cols.sel_a),
        "cb2": Vec("i", cols.cb2),
        "d0r": Vec("i", [1]),
        "crho2": Vec("i", cols.crho2),
        "cu2": Vec("i", cols.cu2),
        "sel2": Vec("i", cols.sel2),
        "top2": Vec("i", cols.top2),
        "e2r": Vec("i", column_eq_values(tau2_i, range(n_l2))),
        "e1r": Vec("i", eq_table(tau2_i)[: l1.m]),
        "selR1": Vec("i", [1] * l1.m),
        "x1": Vec("j", cols.x1),
        "delta0": Vec("j", [1]),
        "crho1": Vec("j", cols.crho1),
        "cvp": Vec("j", cols.cvp),
        "cvm": Vec("j", cols.cvm),
        "delta_a": Vec("j", cols.delta_a),
        "sel1": Vec("j", cols.sel1),
        "shift1": Vec("j", cols.shift1),
        "e1": Vec("j", column_eq_values(tau2_j, range(n_l1))),
        "eout": Vec("j", eout),
        "d2": Vec("j", cols.d2),
        "y2": Vec("j", cols.y2),
        "sigma2": Vec("j", cols.sigma2),
        "e2c": Vec("j", column_eq_values(tau2_j, pos_v)),
        "psi": Vec("j", psi),
        "P": WeightGrid(
            ints_p,
            {int(c): blind_p[k] for k, c in enumerate(lay.lp.blinding_columns())},
            mp,
            lay.lp.positions(),
        ),
        "V": WeightGrid(
            ints_v,
            {int(c): blind_v[k] for k, c in enumerate(lay.lv.blinding_columns())},
            mp,
            lay.lv.positions(),
        ),
        "Limb1": Grid(limb1_grid),
        "H1": Grid(h1),
        "Mu1": Grid(flat_grid(mu1_flat, mp)),
        "T1": Grid(flat_grid(t1, mp)),
        "Limb2": Grid(limb2_grid),
        "H2": Grid(h2),
        "Mu2": Grid(flat_grid(mu2_flat, mp)),
        "T2": Grid(flat_grid(t2, mp)),
    }
    prover = SumcheckProver(lay.mu_i, lay.mu_j, tables, _terms(statement, ch))
    g6 = powers(gamma, 7)[6]
    mask1 = WeightMaskAddend(
        SumcheckProver(
            lay.mu_i,
            lay.mu_j,
            {
                "eA": Vec("i", e_a),
                "R": PeriodicGrid(masks.r1, mp, lay.n_pad),
                "x1": Vec("j", cols.x1),
            },
            [Term(l1.multiplier, ("eA", "R", "x1"))],
        )
    )
    mask2 = WeightMaskAddend(
        SumcheckProver(
            lay.mu_i,
            lay.mu_j,
            {
                "eout": Vec("j", eout),
                "R": PeriodicGrid(masks.r2, mp, lay.n_pad),
                "selA": Vec("i", cols.sel_a),
                "Act": Vec("i", act),
                "cb2": Vec("i", cols.cb2),
            },
            [
                Term(g6 * l2.multiplier, ("eout", "R", "selA", "Act")),
                Term(g6 * l2.multiplier, ("eout", "R", "cb2")),
            ],
        )
    )
    libra = LibraAddend(masks.zk.libra, rho_l)
    rounds = prove_rounds(
        prover,
        tr,
        message=hooks.round_message,
        claim=rho_l * libra_sum % R,
        addends=[libra, mask1, mask2],
    )
    point = prover.point()
    scale = mask1.scale
    if scale is None or scale == 0:
        raise DegenerateDrawError
    wp_hat = (prover.final_value("P") + scale * mask1.inner.final_value("R")) % R
    wv_hat = (prover.final_value("V") + scale * mask2.inner.final_value("R")) % R
    u_lo = point[:LOG_D]
    act_eval = mle_eval(act_chunk, u_lo)
    evals = [
        wp_hat,
        prover.final_value("Limb1"),
        prover.final_value("H1"),
        prover.final_value("Mu1"),
        act_eval,
        wv_hat,
        prover.final_value("Limb2"),
        prover.final_value("H2"),
        prover.final_value("Mu2"),
    ]
    s_g = masks.zk.libra.evaluate(point)

    # The batched opening (S6 step 6).
    e_hi = eq_table(point[LOG_D:])
    tail = [mle_eval(masks.zk.gemini, u_lo), s_g]
    tr.absorb(TAG_EVALUATIONS, b"".join(scalar_to_bytes(v) for v in [*evals, *tail]))
    nus = powers(tr.challenge(), OPENED_COUNT + 1)
    q = combine_chunks(weight_flat(lay.lp, p_w64, p_b), lay.lp.k_w, e_hi)
    add_blinding(q, lay.lp, blind_p, e_hi, 1)
    polys: list[tuple[int, ObjArray]] = [
        (1, combine_chunks(grid_flat(limb1_grid), lay.k_l1, e_hi)),
        (2, combine_chunks(grid_flat(h1), lay.k_l1, e_hi)),
        (3, combine_chunks(mu1_flat, 1, e_hi)),
        (ACT_SLOT, obj_array(act_chunk)),
        (V_SLOT, combine_chunks(weight_flat(lay.lv, v_w64, v_b), lay.lv.k_w, e_hi)),
        (6, combine_chunks(limb2_flat, lay.k_l2, e_hi)),
        (7, combine_chunks(h2_flat, lay.k_l2, e_hi)),
        (8, combine_chunks(mu2_flat, 1, e_hi)),
        (OPENED_COUNT, obj_array(masks.zk.gemini)),
    ]
    for slot, vec in polys:
        q = (q + nus[slot] * vec) % R
    add_blinding(q, lay.lv, blind_v, e_hi, nus[V_SLOT])
    q = (q + scale * (obj_array(r1_chunk) + nus[V_SLOT] * obj_array(r2_chunk))) % R

    a_hat = grand_sum_hat(masks.zk.libra, point, rng)
    c_a = commit(setup, a_hat)
    tr.absorb(TAG_LIBRA_SUM_COMMIT, encode_g1(c_a))
    kappa = tr.challenge()
    q_hat = quotient_hat(masks.zk.libra, a_hat, point, s_g, kappa)
    c_q = commit(setup, q_hat)
    if G1Point.identity() in (c_a, c_q):
        raise WitnessError("C_A or C_Q is the point at infinity: draw fresh masks")
    tr.absorb(TAG_LIBRA_QUOTIENT, encode_g1(c_q))
    opening = open_multilinear(
        setup,
        [int(v) for v in q],
        u_lo,
        tr,
        lib_hat=masks.zk.libra.lib_hat(),
        a_hat=a_hat,
        q_hat=q_hat,
    )
    proof = StackProof(
        c_p=tuple(commit_p.chunk_points()),
        c_v=tuple(commit_v.chunk_points()),
        c_limb1=tuple(c_limb1),
        c_mu1=c_mu1,
        c_act=c_act,
        c_limb2=tuple(c_limb2),
        c_mu2=c_mu2,
        c_r1=c_r1,
        c_r2=c_r2,
        c_lib=c_lib,
        c_mk=c_mk,
        libra_sum=libra_sum,
        c_h1=tuple(c_h1),
        c_h2=tuple(c_h2),
        rounds=tuple((a, b_, c, d) for a, b_, c, d in rounds),
        evals=(*evals, *tail),
        opening=ZkOpeningProof(c_a=c_a, c_q=c_q, opening=opening),
    )
    return proof.to_bytes()


# --------------------------------------------------------------------------------------------------
# The verifier


def verify_stack(setup: Setup, statement: StackStatement, proof_bytes: bytes) -> None:
    """
    Check a stack proof against its statement (S6, S7, S8).

    Returns
    -------
    None
        If the proof is valid.

    Raises
    ------
    EncodingError
        If the bytes are not a canonical proof of the statement's shape.
    ProofRejected
        If ``C_P``/``C_V`` do not hash to ``H_P``/``H_V``, a degenerate case of S8 occurs, or a
        check fails.
    """
    _check_setup(setup)
    if not isinstance(statement, StackStatement):
        raise TypeError("statement must be a StackStatement")
    lay = statement.layout
    proof = StackProof.from_bytes(proof_bytes, lay)
    if weight_commitment_hash(proof.c_p) != statement.h_p:
        raise ProofRejected("the P chunks do not hash to H_P")
    if weight_commitment_hash(proof.c_v) != statement.h_v:
        raise ProofRejected("the V chunks do not hash to H_V")
    reject_masks_at_infinity(
        C_Act=proof.c_act,
        C_R1=proof.c_r1,
        C_R2=proof.c_r2,
        C_Lib=proof.c_lib,
        C_Mk=proof.c_mk,
        C_A=proof.opening.c_a,
        C_Q=proof.opening.c_q,
    )
    tr = start_transcript(DOMAIN_STACK, statement.to_bytes(setup.setup_id), None)
    alpha, lam = round1_challenges(tr, proof.round1_points(), 2, proof.libra_sum)
    tau_a, tau_b, tau2, gamma, rho_l = round2_stack_challenges(tr, [*proof.c_h1, *proof.c_h2], lay)
    if rho_l == 0:
        raise ProofRejected("degenerate: ρ_L = 0")
    ch = StackChallenges(alpha, lam, tau_a, tau_b, tau2, gamma, rho_l)
    claim, (u_top,) = verify_rounds(proof.rounds[:1], rho_l * proof.libra_sum % R, tr)
    scale = u_top * (1 - u_top) % R
    if scale == 0:
        raise ProofRejected("degenerate: u_ℓ(1 − u_ℓ) = 0")
    claim, rest = verify_rounds(proof.rounds[1:], claim, tr)
    point = [*rest, u_top]
    evals = proof.evals
    s_g = evals[-1]
    if (final_value(statement, ch, point, evals) + rho_l * s_g) % R != claim:
        raise ProofRejected("the final sumcheck claim does not match the evaluations")

    tr.absorb(TAG_EVALUATIONS, b"".join(scalar_to_bytes(v) for v in evals))
    nus = powers(tr.challenge(), OPENED_COUNT + 1)
    u_lo, u_hi = point[:LOG_D], point[LOG_D:]
    e_hi = eq_table(u_hi)
    groups: list[tuple[int, Sequence[G1Point]]] = [
        (0, proof.c_p),
        (1, proof.c_limb1),
        (2, proof.c_h1),
        (3, (proof.c_mu1,)),
        (V_SLOT, proof.c_v),
        (6, proof.c_limb2),
        (7, proof.c_h2),
        (8, (proof.c_mu2,)),
    ]
    bases: list[G1Point] = []
    scalars: list[int] = []
    for slot, group in groups:
        for c, point_c in enumerate(group):
            bases.append(point_c)
            scalars.append(nus[slot] * e_hi[c] % R)
    bases += [proof.c_act, proof.c_r1, proof.c_r2, proof.c_mk]
    scalars += [nus[ACT_SLOT], scale, scale * nus[V_SLOT] % R, nus[OPENED_COUNT]]
    c_open = msm(bases, scalars)
    v_q = sum(n * e for n, e in zip(nus, evals[: OPENED_COUNT + 1], strict=True)) % R

    tr.absorb(TAG_LIBRA_SUM_COMMIT, encode_g1(proof.opening.c_a))
    kappa = tr.challenge()
    tr.absorb(TAG_LIBRA_QUOTIENT, encode_g1(proof.opening.c_q))
    beta = verify_opening(
        setup,
        c_open,
        u_lo,
        v_q,
        proof.opening.opening,
        tr,
        c_lib=proof.c_lib,
        c_a=proof.opening.c_a,
        c_q=proof.opening.c_q,
    )
    lib_b, a_b, q_b, a_wb = proof.opening.opening.libra_evals
    check_sum_identity(lay.ell, point, s_g, kappa, beta, lib_b, a_b, q_b, a_wb)
