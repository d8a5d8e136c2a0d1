"""
The public side of the two-layer stack proof (docs/proof-system-stack.md): the two layers'
parameters, the statement and its transcript bytes (S6 step 1), the derived sizes (S2) and the
proof's byte layout (S7).

Introduction
------------
A :class:`StackStatement` says "the partition whose weight commitment is ``keccak256(H_P ‖ H_V)``
maps the public ``x`` through two ``QLinear`` layers to the public ``y``"; the intermediate
activation stays hidden. :class:`StackLayout` derives every size of the proof from the two layers
(``m'``, ``μ_i``, ``μ_j``, ``ℓ``, the limb counts, the chunk counts) and refuses a stack the spec
refuses (S2, S10) with :class:`StackError`. :class:`StackProof` is the strict S7 byte layout::

    C_P[K_W(L_P)] ‖ C_V[K_W(L_V)] ‖ C_Limb1[K_L1] ‖ C_Mu1 ‖ C_Act ‖ C_Limb2[K_L2] ‖ C_Mu2 ‖ C_R1 ‖
    C_R2 ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H1[K_L1] ‖ C_H2[K_L2] ‖ sumcheck[ℓ][4] ‖ evals[11] ‖ C_A ‖ C_Q ‖
    folds[d−1] ‖ foldEvals[d][3] ‖ libraEvals[4] ‖ W[4]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import G1Point

from protocol.activations import Int8VectorLike, int8_array, int8_bytes
from protocol.exceptions import ProtocolError

from .batch import ZkOpeningProof
from .curve import G1_ENCODED_LEN, encode_g1
from .errors import EncodingError, SumKzgError
from .field import SCALAR_LEN, scalar_to_bytes
from .layout import (
    BYTE_TABLE_SIZE,
    MAX_ELL,
    MAX_SHIFT,
    MIN_SHIFT,
    MULTIPLIER_LIMIT,
    Layout,
    LayoutError,
)
from .proof import Rounds, _Reader, points_bytes, rounds_bytes, scalars_bytes
from .setup import LOG_D, SETUP_ID, D
from .statement import StatementError, _address, _hash32, _signed, _statement_bytes, _uint
from .sumcheck import ROUND_EVALS
from .transcript import keccak256

DOMAIN_STACK = b"SUMKZG-ML/v2/stack2"
"""The transcript domain of the stack proof (S6)."""
STACK_EXTRA_ROWS = 4
"""The zero rows appended to ``W1`` (``P``) and the bias byte rows appended to ``W2ᵀ`` (``V``)."""
STACK_EVALS = 11
"""``Ŵ_P, L̃imb1, H̃1, M̃u1, Ã, Ŵ_V, L̃imb2, H̃2, M̃u2`` at ``u``, ``M̃k(u_lo)``, ``s_G``."""
OPENED_COUNT = 9
"""The opened polynomials (``Mk`` aside)."""
ACT_SLOT = 4
"""The position of ``Act`` among the opened polynomials (opened without chunk weight)."""
V_SLOT = 5
"""The position of ``Ŵ_V`` among the opened polynomials (its mask ``R2`` has ``ν^5``)."""


class StackError(SumKzgError, ValueError):
    """A stack's shapes or parameters are refused (docs/proof-system-stack.md S1, S2, S10)."""


def stack_commitment_hash(h_p: bytes, h_v: bytes) -> bytes:
    """``H_S = keccak256(H_P ‖ H_V)``: the partition's weight commitment (S1)."""
    return keccak256(_hash32(h_p, "h_p") + _hash32(h_v, "h_v"))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class StackLayer:
    """
    One layer's public parameters.

    Attributes
    ----------
    m, n :
        Outputs and inputs, ``1 <= m, n <= 65534``.
    multiplier :
        ``M``, ``0 <= M < 2^31``.
    shift :
        ``k``, ``1 <= k <= 62``.
    activation :
        0 (none, ``lo = −128``) or 1 (relu, ``lo = 0``).
    """

    m: int
    n: int
    multiplier: int
    shift: int
    activation: int

    def __post_init__(self) -> None:
        """Validate every field (:class:`StatementError`)."""
        for value, what in ((self.m, "m"), (self.n, "n")):
            _uint(value, 32, what)
            if not 1 <= value <= 65534:
                raise StatementError(f"{what} = {value} is outside 1 .. 65534")
        _uint(self.multiplier, 32, "multiplier")
        if self.multiplier >= MULTIPLIER_LIMIT:
            raise StatementError(f"multiplier {self.multiplier} is not below 2^31")
        _uint(self.shift, 8, "shift")
        if not MIN_SHIFT <= self.shift <= MAX_SHIFT:
            raise StatementError(f"shift {self.shift} is outside {MIN_SHIFT} .. {MAX_SHIFT}")
        if isinstance(self.activation, bool) or self.activation not in (0, 1):
            raise StatementError(f"activation must be 0 or 1, got {self.activation!r}")

    @property
    def low(self) -> int:
        """``lo``: 0 for relu, −128 for none."""
        return 0 if self.activation == 1 else -128


@dataclass(frozen=True)
class StackLayout:
    """
    Every derived size of a stack proof (docs/proof-system-stack.md S2).

    Build it with :meth:`of`; it refuses (:class:`StackError`) ``n2 != m1``, a matrix refused by
    :meth:`Layout.of`, ``ℓ > 24``, ``L2 + 2 > m'`` and ``L1 > n'``.

    Attributes
    ----------
    layer1, layer2 :
        The layers.
    lp, lv :
        ``L_P = Layout.of(m1 + 4, n1)`` and ``L_V = Layout.of(n2 + 4, m2)`` (same ``m'``).
    m_pad, mu_i, mu_j, n_pad, ell :
        ``m'``, ``log₂ m'``, ``max(μ_j(L_P), μ_j(L_V))``, ``2^μ_j``, ``ℓ = μ_i + μ_j``.
    cpc_bits :
        ``b = log₂ cpc = d − μ_i``: the column variables inside a chunk.
    k_rho1, k_u1, limbs1, k_top1, table1, k_l1 :
        Layer 1's ``Kρ1``, ``Ku1``, ``L1 = Kρ1 + 2·Ku1 + 1``, ``k1'``, ``TS1``, ``K_L1``.
    k_rho2, k_u2, limbs2, k_top2, table2, k_l2 :
        Layer 2's ``Kρ2``, ``Ku2``, ``L2 = Kρ2 + Ku2``, ``k2'``, ``TS2``, ``K_L2``.
    cols2 :
        ``pos_V(m2 − 1) + 1``: the stored columns of ``Limb2`` and ``H2``.
    """

    layer1: StackLayer
    layer2: StackLayer
    lp: Layout
    lv: Layout
    m_pad: int
    mu_i: int
    mu_j: int
    n_pad: int
    ell: int
    cpc_bits: int
    k_rho1: int
    k_u1: int
    limbs1: int
    k_top1: int
    table1: int
    k_l1: int
    k_rho2: int
    k_u2: int
    limbs2: int
    k_top2: int
    table2: int
    k_l2: int
    cols2: int

    @staticmethod
    def of(layer1: StackLayer, layer2: StackLayer) -> StackLayout:
        """
        Derive the sizes.

        Raises
        ------
        StackError
            If the stack is refused (see the class).
        """
        if layer2.n != layer1.m:
            raise StackError(f"layer 2 takes {layer2.n} inputs, layer 1 gives {layer1.m}")
        try:
            lp = Layout.of(layer1.m + STACK_EXTRA_ROWS, layer1.n)
            lv = Layout.of(layer2.n + STACK_EXTRA_ROWS, layer2.m)
        except LayoutError as error:
            raise StackError(f"stack refused: {error}") from error
        if lp.m_pad != lv.m_pad:  # pragma: no cover (m1 = n2)
            raise StackError("the two matrices disagree on m'")
        m_pad = lp.m_pad
        mu_i = lp.mu_i
        mu_j = max(lp.mu_j, lv.mu_j)
        ell = mu_i + mu_j
        if ell > MAX_ELL:
            raise StackError(f"stack needs ℓ = {ell} > {MAX_ELL} sumcheck variables")
        k1, k2 = layer1.shift, layer2.shift
        k_rho1 = _ceil_div(k1, 8)
        k_u1 = _ceil_div(64 - k1, 8) + 1
        limbs1 = k_rho1 + 2 * k_u1 + 1
        k_top1 = k1 - 8 * (k_rho1 - 1)
        table1 = BYTE_TABLE_SIZE + (1 << k_top1) + (128 if layer1.activation == 1 else 0)
        k_rho2 = _ceil_div(k2, 8)
        k_u2 = _ceil_div(64 - k2, 8) + 1
        limbs2 = k_rho2 + k_u2
        k_top2 = k2 - 8 * (k_rho2 - 1)
        n_pad = 1 << mu_j
        if limbs2 + 2 > m_pad:
            raise StackError(f"layer 2 needs L2 + 2 = {limbs2 + 2} > m' = {m_pad} rows")
        if limbs1 > n_pad:
            raise StackError(f"layer 1 needs L1 = {limbs1} > n' = {n_pad} columns")
        cols2 = lv.pos(layer2.m - 1) + 1
        return StackLayout(
            layer1=layer1,
            layer2=layer2,
            lp=lp,
            lv=lv,
            m_pad=m_pad,
            mu_i=mu_i,
            mu_j=mu_j,
            n_pad=n_pad,
            ell=ell,
            cpc_bits=LOG_D - mu_i,
            k_rho1=k_rho1,
            k_u1=k_u1,
            limbs1=limbs1,
            k_top1=k_top1,
            table1=table1,
            k_l1=_ceil_div(m_pad * limbs1, D),
            k_rho2=k_rho2,
            k_u2=k_u2,
            limbs2=limbs2,
            k_top2=k_top2,
            table2=BYTE_TABLE_SIZE + (1 << k_top2),
            k_l2=_ceil_div(m_pad * cols2, D),
            cols2=cols2,
        )

    @property
    def ja(self) -> int:
        """``L1 − 1``: ``Limb1``'s column of ``a − lo1``."""
        return self.limbs1 - 1

    @property
    def points_before_rounds(self) -> int:
        """The points before the sumcheck section."""
        return self.lp.k_w + self.lv.k_w + 2 * self.k_l1 + 2 * self.k_l2 + 7

    @property
    def sumcheck_offset(self) -> int:
        """The byte offset of the first sumcheck scalar."""
        return self.points_before_rounds * G1_ENCODED_LEN + SCALAR_LEN

    @property
    def byte_len(self) -> int:
        """The exact proof length (S7)."""
        return (
            self.sumcheck_offset
            + self.ell * ROUND_EVALS * SCALAR_LEN
            + STACK_EVALS * SCALAR_LEN
            + ZkOpeningProof.BYTE_LEN
        )


@dataclass(frozen=True)
class StackStatement:
    """
    What a stack proof proves: the partition with weight commitment ``keccak256(H_P ‖ H_V)``
    maps ``x`` through layer 1 and layer 2 to ``y`` (docs/proof-system-stack.md S1, S6).

    Attributes
    ----------
    chain_id, verifier, model_id, partition_index, job_id :
        As in :class:`~sumkzg.statement.InferenceStatement`.
    h_p, h_v :
        The §4 hashes of the registered matrices ``P`` and ``V`` (S1).
    layer1, layer2 :
        The layers; ``layer2.n == layer1.m``.
    x :
        ``n1`` int8 inputs as raw two's-complement bytes.
    y :
        ``m2`` int8 outputs as raw bytes; for a relu layer 2 every ``y_c ∈ [0, 127]``.
    """

    chain_id: int
    verifier: str
    model_id: bytes
    partition_index: int
    h_p: bytes
    h_v: bytes
    layer1: StackLayer
    layer2: StackLayer
    x: bytes
    y: bytes
    job_id: int
    layout: StackLayout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate and normalize every field (:class:`StatementError`)."""
        _uint(self.chain_id, 256, "chain_id")
        object.__setattr__(self, "verifier", _address(self.verifier))
        object.__setattr__(self, "model_id", _hash32(self.model_id, "model_id"))
        _uint(self.partition_index, 256, "partition_index")
        object.__setattr__(self, "h_p", _hash32(self.h_p, "h_p"))
        object.__setattr__(self, "h_v", _hash32(self.h_v, "h_v"))
        if not isinstance(self.layer1, StackLayer) or not isinstance(self.layer2, StackLayer):
            raise StatementError("layer1 and layer2 must be StackLayer")
        try:
            object.__setattr__(self, "layout", StackLayout.of(self.layer1, self.layer2))
        except StackError as error:
            raise StatementError(str(error)) from error
        for raw, length, what in ((self.x, self.layer1.n, "x"), (self.y, self.layer2.m, "y")):
            if not isinstance(raw, (bytes, bytearray)):
                raise StatementError(f"{what} must be raw int8 bytes")
            if len(raw) != length:
                raise StatementError(f"{what} has {len(raw)} values, expected {length}")
        object.__setattr__(self, "x", bytes(self.x))
        object.__setattr__(self, "y", bytes(self.y))
        if self.layer2.activation == 1 and any(b > 127 for b in self.y):
            raise StatementError("relu output y has a negative value")
        _uint(self.job_id, 256, "job_id")

    @staticmethod
    def from_values(
        *,
        chain_id: int,
        verifier: str | bytes,
        model_id: bytes,
        partition_index: int,
        h_p: bytes,
        h_v: bytes,
        layer1: StackLayer,
        layer2: StackLayer,
        x: Int8VectorLike,
        y: Int8VectorLike,
        job_id: int,
    ) -> StackStatement:
        """
        Build a statement from int8 vectors in any form :func:`protocol.activations.int8_bytes`
        accepts.

        Raises
        ------
        StatementError
            If a field is invalid.
        """
        try:
            raw_x = int8_bytes(x, "x")
            raw_y = int8_bytes(y, "y")
        except ProtocolError as error:
            raise StatementError(str(error)) from error
        return StackStatement(
            chain_id=chain_id,
            verifier=_address(verifier),
            model_id=model_id,
            partition_index=partition_index,
            h_p=h_p,
            h_v=h_v,
            layer1=layer1,
            layer2=layer2,
            x=raw_x,
            y=raw_y,
            job_id=job_id,
        )

    @property
    def weight_commitment(self) -> bytes:
        """``H_S = keccak256(H_P ‖ H_V)``."""
        return stack_commitment_hash(self.h_p, self.h_v)

    @property
    def x_values(self) -> tuple[int, ...]:
        """``x`` as signed integers."""
        return _signed(self.x)

    @property
    def y_values(self) -> tuple[int, ...]:
        """``y`` as signed integers."""
        return _signed(self.y)

    def x_array(self) -> npt.NDArray[np.int8]:
        """``x`` as an ``int8`` array."""
        return int8_array(self.x)

    def y_array(self) -> npt.NDArray[np.int8]:
        """``y`` as an ``int8`` array."""
        return int8_array(self.y)

    def to_bytes(self, setup_id: bytes = SETUP_ID) -> bytes:
        """
        The statement bytes absorbed with tag ``0x00`` (S6 step 1): ``chainid (32) ‖ verifier
        (20) ‖ SETUP_ID (32) ‖ modelId (32) ‖ partitionIndex (32) ‖ H_P (32) ‖ H_V (32) ‖ m1 (4) ‖
        n1 (4) ‖ M1 (4) ‖ k1 (1) ‖ act1 (1) ‖ m2 (4) ‖ M2 (4) ‖ k2 (1) ‖ act2 (1) ‖ x ‖ y ‖
        jobId (32)``.
        """
        l1, l2 = self.layer1, self.layer2
        return _statement_bytes(
            self.chain_id,
            self.verifier,
            setup_id,
            self.model_id
            + self.partition_index.to_bytes(32, "big")
            + self.h_p
            + self.h_v
            + l1.m.to_bytes(4, "big")
            + l1.n.to_bytes(4, "big")
            + l1.multiplier.to_bytes(4, "big")
            + l1.shift.to_bytes(1, "big")
            + l1.activation.to_bytes(1, "big")
            + l2.m.to_bytes(4, "big")
            + l2.multiplier.to_bytes(4, "big")
            + l2.shift.to_bytes(1, "big")
            + l2.activation.to_bytes(1, "big")
            + self.x
            + self.y
            + self.job_id.to_bytes(32, "big"),
        )


@dataclass(frozen=True)
class StackProof:
    """
    A decoded stack proof (S7).

    Attributes
    ----------
    c_p, c_v :
        The chunk commitments of ``P′`` and ``V′`` (must hash to ``H_P``, ``H_V``).
    c_limb1, c_mu1, c_act, c_limb2, c_mu2, c_r1, c_r2, c_lib, c_mk, libra_sum :
        The round-1 message (S6 step 2).
    c_h1, c_h2 :
        The round-2 message.
    rounds :
        ``ℓ`` sumcheck rounds of four scalars.
    evals :
        The 11 evaluations of S6 step 5.
    opening :
        ``C_A ‖ C_Q`` and the four-point opening.
    """

    c_p: tuple[G1Point, ...]
    c_v: tuple[G1Point, ...]
    c_limb1: tuple[G1Point, ...]
    c_mu1: G1Point
    c_act: G1Point
    c_limb2: tuple[G1Point, ...]
    c_mu2: G1Point
    c_r1: G1Point
    c_r2: G1Point
    c_lib: G1Point
    c_mk: G1Point
    libra_sum: int
    c_h1: tuple[G1Point, ...]
    c_h2: tuple[G1Point, ...]
    rounds: Rounds
    evals: tuple[int, ...]
    opening: ZkOpeningProof

    def round1_points(self) -> list[G1Point]:
        """``C_Limb1 ‖ C_Mu1 ‖ C_Act ‖ C_Limb2 ‖ C_Mu2 ‖ C_R1 ‖ C_R2 ‖ C_Lib ‖ C_Mk``."""
        return [
            *self.c_limb1,
            self.c_mu1,
            self.c_act,
            *self.c_limb2,
            self.c_mu2,
            self.c_r1,
            self.c_r2,
            self.c_lib,
            self.c_mk,
        ]

    def to_bytes(self) -> bytes:
        """The S7 encoding."""
        return (
            points_bytes(self.c_p)
            + points_bytes(self.c_v)
            + points_bytes(self.round1_points())
            + scalar_to_bytes(self.libra_sum)
            + points_bytes(self.c_h1)
            + points_bytes(self.c_h2)
            + rounds_bytes(self.rounds)
            + scalars_bytes(self.evals)
            + self.opening.to_bytes()
        )

    @staticmethod
    def from_bytes(data: bytes, layout: StackLayout) -> StackProof:
        """
        Decode strictly for ``layout``.

        Raises
        ------
        EncodingError
            On a wrong length, a non-canonical scalar or an invalid point.
        """
        if not isinstance(data, (bytes, bytearray)):
            raise EncodingError("a proof must be bytes")
        reader = _Reader(bytes(data), layout.byte_len, "stack proof")
        return StackProof(
            c_p=reader.points(layout.lp.k_w),
            c_v=reader.points(layout.lv.k_w),
            c_limb1=reader.points(layout.k_l1),
            c_mu1=reader.points(1)[0],
            c_act=reader.points(1)[0],
            c_limb2=reader.points(layout.k_l2),
            c_mu2=reader.points(1)[0],
            c_r1=reader.points(1)[0],
            c_r2=reader.points(1)[0],
            c_lib=reader.points(1)[0],
            c_mk=reader.points(1)[0],
            libra_sum=reader.scalars(1)[0],
            c_h1=reader.points(layout.k_l1),
            c_h2=reader.points(layout.k_l2),
            rounds=reader.rounds(layout.ell),
            evals=reader.scalars(STACK_EVALS),
            opening=reader.opening(),
        )


def encode_points(points: list[G1Point]) -> bytes:
    """Concatenated 128-byte encodings (as absorbed)."""
    return b"".join(encode_g1(p) for p in points)
