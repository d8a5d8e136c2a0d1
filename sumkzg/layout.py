"""
The layout of one layer over the sumcheck domain, and the public column vectors
(docs/proof-system.md §3, §4, §5).

Introduction
------------
:class:`Layout` holds the derived sizes of a shape ``(m, n)`` (``m'``, ``n'``, ``μ_i``, ``μ_j``,
``ℓ``, the chunk counts ``K_W``, ``K_B``, ``K_HW``); :class:`LimbLayout` adds those that depend on
the shift ``k`` (``Kρ``, ``Ku``, ``L``, ``k'``, ``TS``, ``K_L``). Both refuse out-of-range input
with :class:`LayoutError`.

The domain is ``{0,1}^ℓ``; entry ``(i, j)`` has flat index ``f = i + m'·j``; variable ``v``
(1-based) is bit ``v−1`` of ``f``, so a point ``u = (u_1..u_ℓ)`` splits into
``u_i = (u_1..u_{μ_i})`` (the bits of ``i``) and ``u_j = (u_{μ_i+1}..u_ℓ)`` (the bits of ``j``).

The public column vectors are given twice: as short lists (``*_column``/``*_rows``: the non-zero
prefix, every later entry is 0), which the prover uses as tables, and as their multilinear
extensions evaluated the way the verifier does it (``*_mle``): in time linear in the number of
non-zero entries, never over the whole domain, with one batch inversion for ``Tα``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ProofRejected, SumKzgError
from .field import R, batch_inv, eq_eval
from .setup import LOG_D, D

MAX_DIM = 65534
"""The largest accepted ``m`` and ``n``."""
MAX_ELL = 24
"""The largest accepted number of sumcheck variables ``ℓ``."""
MULTIPLIER_LIMIT = 2**31
"""``M`` must satisfy ``0 <= M < 2^31``."""
MIN_SHIFT = 1
MAX_SHIFT = 62
"""``k`` must satisfy ``1 <= k <= 62``."""
BIAS_OFFSET = 2**31
"""Registration proves ``b + 2^31 ∈ [0, 2^32)`` as four bytes."""
BIAS_LIMBS = 4
"""Byte limbs of a biased bias."""
WEIGHT_OFFSET = 128
"""Registration proves ``W + 128 ∈ [0, 256)``."""
BYTE_TABLE_SIZE = 256
"""Entries of the registration lookup table (one byte)."""


class LayoutError(SumKzgError, ValueError):
    """A shape or requant parameter is outside what SumKZG-ML v1 accepts."""


def _log2_ceil(x: int) -> int:
    """Return ``⌈log₂ x⌉`` for ``x >= 1``."""
    return (x - 1).bit_length()


def _require_int(value: object, low: int, high: int, what: str) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in ``[low, high]``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayoutError(f"{what} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise LayoutError(f"{what} = {value} is outside {low} .. {high}")
    return value


@dataclass(frozen=True)
class Layout:
    """
    The derived sizes of a layer of shape ``(m, n)`` (docs/proof-system.md §3, §4).

    Build it with :meth:`of`, which checks ``1 <= m, n <= 65534`` and ``ℓ <= 24``; every field is
    then consistent: ``m_pad = 2^mu_i``, ``n_pad = 2^mu_j``, ``ell = mu_i + mu_j >= 12``.

    Attributes
    ----------
    m, n :
        Rows (outputs) and columns (inputs).
    m_pad :
        ``m' = 2^⌈log₂ m⌉``.
    n_pad :
        ``n' = max(2^⌈log₂(n+2)⌉, 16, D / m')``.
    mu_i, mu_j, ell :
        ``log₂ m'``, ``log₂ n'`` and ``ℓ = μ_i + μ_j``.
    k_w :
        ``K_W = ⌈m'·(n+2) / D⌉`` chunks of ``W′``.
    k_b :
        ``K_B = ⌈4·m' / D⌉`` chunks of the bias limbs ``BL`` and of ``HB``.
    k_hw :
        ``K_HW = ⌈m'·n / D⌉`` chunks of ``HW``.
    """

    m: int
    n: int
    m_pad: int
    n_pad: int
    mu_i: int
    mu_j: int
    ell: int
    k_w: int
    k_b: int
    k_hw: int

    @staticmethod
    def of(m: int, n: int) -> Layout:
        """
        Derive the layout of an ``m×n`` layer.

        Raises
        ------
        LayoutError
            If ``m`` or ``n`` is not an int in ``1 .. 65534``, or ``ℓ > 24``.
        """
        _require_int(m, 1, MAX_DIM, "m")
        _require_int(n, 1, MAX_DIM, "n")
        mu_i = _log2_ceil(m)
        m_pad = 1 << mu_i
        n_pad = max(1 << _log2_ceil(n + 2), 16, D // m_pad)
        mu_j = n_pad.bit_length() - 1
        ell = mu_i + mu_j
        if ell > MAX_ELL:
            raise LayoutError(f"shape {m}×{n} needs ℓ = {ell} > {MAX_ELL} sumcheck variables")
        return Layout(
            m=m,
            n=n,
            m_pad=m_pad,
            n_pad=n_pad,
            mu_i=mu_i,
            mu_j=mu_j,
            ell=ell,
            k_w=-(-m_pad * (n + 2) // D),
            k_b=-(-BIAS_LIMBS * m_pad // D),
            k_hw=-(-m_pad * n // D),
        )

    @property
    def domain_size(self) -> int:
        """``2^ℓ = m'·n'``."""
        return self.m_pad * self.n_pad

    @property
    def hi_vars(self) -> int:
        """``ℓ − d``: the variables that select a chunk."""
        return self.ell - LOG_D

    def flat(self, i: int, j: int) -> int:
        """The flat index ``i + m'·j`` of entry ``(i, j)``."""
        return i + self.m_pad * j

    def split_point(self, point: Sequence[int]) -> tuple[list[int], list[int]]:
        """
        Split a domain point into its row and column parts.

        Returns
        -------
        u_i, u_j : `list[int]`
            ``(u_1..u_{μ_i})`` and ``(u_{μ_i+1}..u_ℓ)``.
        """
        if len(point) != self.ell:
            raise LayoutError(f"a point of {len(point)} coordinates, expected {self.ell}")
        return list(point[: self.mu_i]), list(point[self.mu_i :])

    def split_chunk_point(self, point: Sequence[int]) -> tuple[list[int], list[int]]:
        """
        Split a domain point into its in-chunk and chunk-selecting parts.

        Returns
        -------
        u_lo, u_hi : `list[int]`
            ``(u_1..u_d)`` and ``(u_{d+1}..u_ℓ)``.
        """
        if len(point) != self.ell:
            raise LayoutError(f"a point of {len(point)} coordinates, expected {self.ell}")
        return list(point[:LOG_D]), list(point[LOG_D:])


@dataclass(frozen=True)
class LimbLayout:
    """
    The sizes of an inference proof that depend on the shift ``k`` (docs/proof-system.md §3, §5).

    Attributes
    ----------
    shape :
        The layer's :class:`Layout`.
    k :
        The requant shift, ``1 <= k <= 62``.
    k_rho :
        ``Kρ = ⌈k/8⌉`` remainder limbs (columns ``0..Kρ−1`` of ``Limb``).
    k_u :
        ``Ku = ⌈(64−k)/8⌉ + 1`` slack limbs (columns ``Kρ..L−1``).
    limbs :
        ``L = Kρ + Ku <= 10``.
    k_top :
        ``k' = k − 8(Kρ−1) ∈ [1, 8]``, the bits of the top remainder limb.
    table_size :
        ``TS = 256 + 2^{k'}`` lookup table entries.
    k_l :
        ``K_L = ⌈m'·L / D⌉`` chunks of ``Limb`` and of ``H``.
    """

    shape: Layout
    k: int
    k_rho: int
    k_u: int
    limbs: int
    k_top: int
    table_size: int
    k_l: int

    @staticmethod
    def of(m: int, n: int, k: int) -> LimbLayout:
        """
        Derive the inference layout of an ``m×n`` layer with shift ``k``.

        Raises
        ------
        LayoutError
            If the shape is refused by :meth:`Layout.of` or ``k`` is not an int in ``1 .. 62``.
        """
        shape = Layout.of(m, n)
        _require_int(k, MIN_SHIFT, MAX_SHIFT, "k")
        k_rho = -(-k // 8)
        k_u = -(-(64 - k) // 8) + 1
        limbs = k_rho + k_u
        k_top = k - 8 * (k_rho - 1)
        return LimbLayout(
            shape=shape,
            k=k,
            k_rho=k_rho,
            k_u=k_u,
            limbs=limbs,
            k_top=k_top,
            table_size=BYTE_TABLE_SIZE + (1 << k_top),
            k_l=-(-shape.m_pad * limbs // D),
        )


# ----------------------------------------------------------------------------
# eq helpers in time linear in the output
# ----------------------------------------------------------------------------


def eq_prefix(point: Sequence[int], size: int) -> list[int]:
    """
    Return ``eq(point, f)`` for ``f < size`` in ``O(size + len(point))`` field operations.

    Parameters
    ----------
    point :
        ``μ`` field elements (little-endian variables, ``point[v−1]`` with bit ``v−1``).
    size :
        ``0 <= size <= 2^μ``.

    Returns
    -------
    table : `list[int]`
        The first ``size`` entries of :func:`sumkzg.field.eq_table` of ``point``.
    """
    if not 0 <= size <= 1 << len(point):
        raise LayoutError(f"eq prefix of {size} entries over {len(point)} variables")
    if size == 0:
        return []
    bits = _log2_ceil(size)
    scale = 1
    for p in point[bits:]:
        scale = scale * (1 - p) % R
    table = [scale]
    for p in point[:bits]:
        one_minus = (1 - p) % R
        table = [t * one_minus % R for t in table] + [t * p % R for t in table]
    return table[:size]


def eq_at(point: Sequence[int], index: int) -> int:
    """Return ``eq(point, index)`` (``index`` read as ``len(point)`` little-endian bits)."""
    if not 0 <= index < 1 << len(point):
        raise LayoutError(f"index {index} outside a {len(point)}-variable hypercube")
    out = 1
    for v, p in enumerate(point):
        out = out * (p if (index >> v) & 1 else 1 - p) % R
    return out


def sparse_mle(entries: Sequence[tuple[int, int]], point: Sequence[int]) -> int:
    """Return ``Σ value·eq(point, index)`` over ``(index, value)`` pairs."""
    return sum(value * eq_at(point, index) for index, value in entries) % R


def dense_mle(values: Sequence[int], point: Sequence[int]) -> int:
    """Return ``Σ_{f < len(values)} values[f]·eq(point, f)`` in ``O(len(values))``."""
    table = eq_prefix(point, len(values))
    return sum(v * e for v, e in zip(values, table, strict=True)) % R


# ----------------------------------------------------------------------------
# Inference public vectors (§5)
# ----------------------------------------------------------------------------


def low_bound(activation: int) -> int:
    """``lo``: 0 for relu (activation 1), −128 for none (activation 0)."""
    if activation == 1:
        return 0
    if activation == 0:
        return -128
    raise LayoutError(f"activation must be 0 (none) or 1 (relu), got {activation!r}")


def x_column(x: Sequence[int]) -> list[int]:
    """``x′`` as signed integers: ``x_0..x_{n−1}, 1`` (length ``n+1``; later entries 0)."""
    return [int(v) for v in x] + [1]


def y_rows(y: Sequence[int]) -> list[int]:
    """``y′`` as signed integers: ``y_0..y_{m−1}`` (later rows 0)."""
    return [int(v) for v in y]


def sigma_rows(layout: Layout, y: Sequence[int], activation: int) -> list[int]:
    """
    ``σ`` over all ``m'`` rows: ``−1`` where ``y′_i = lo``, ``+1`` where ``y′_i = 127``, else 0.

    Padded rows have ``y′ = 0``, so ``σ = −1`` there for relu and 0 for none.
    """
    lo = low_bound(activation)
    padded = [int(v) for v in y] + [0] * (layout.m_pad - len(y))
    return [-1 if v == lo else 1 if v == 127 else 0 for v in padded]


def delta0_column() -> list[int]:
    """``δ0``: ``[1]`` (the indicator of ``j = 0``)."""
    return [1]


def c_rho_column(limb: LimbLayout) -> list[int]:
    """``cρ``: ``2^{8j}`` for ``j < Kρ``."""
    return [1 << (8 * j) for j in range(limb.k_rho)]


def c_u_column(limb: LimbLayout) -> list[int]:
    """``cu``: 0 for ``j < Kρ``, ``2^{8(j−Kρ)}`` for ``Kρ <= j < L``."""
    return [0] * limb.k_rho + [1 << (8 * t) for t in range(limb.k_u)]


def sel_column(limb: LimbLayout) -> list[int]:
    """``sel``: 1 for ``j < L``."""
    return [1] * limb.limbs


def top_column(limb: LimbLayout) -> list[int]:
    """``top``: 1 at ``j = Kρ − 1`` only."""
    return [0] * (limb.k_rho - 1) + [1]


def table_values(size: int, lam: int | None = None) -> list[int]:
    """
    The lookup table's values ``t_f`` for ``f < size`` (docs/proof-system.md §3).

    Without ``lam`` (registration) the table is ``0..size−1``. With ``lam`` (inference) the first
    256 entries are the bytes and entry ``f >= 256`` is ``λ + (f − 256)``: the top remainder limb's
    sub-table, shifted by a challenge drawn after the limbs were committed, so that no limb can
    reach the other sub-table.
    """
    if lam is None:
        return list(range(size))
    return [f if f < BYTE_TABLE_SIZE else (lam + f - BYTE_TABLE_SIZE) % R for f in range(size)]


def t_alpha_values(alpha: int, size: int, lam: int | None = None) -> list[int]:
    """
    ``Tα(f) = 1/(α − t_f)`` for ``f < size``, ``t_f`` from :func:`table_values` (one batch
    inversion).

    Raises
    ------
    ProofRejected
        If ``α`` equals a table value (no inverse; happens with negligible probability).
    """
    try:
        return batch_inv([(alpha - t) % R for t in table_values(size, lam)])
    except ZeroDivisionError as error:
        raise ProofRejected("the lookup challenge α hits a table value") from error


def t_alpha_mle(alpha: int, size: int, point: Sequence[int], lam: int | None = None) -> int:
    """The MLE of ``Tα`` (``size`` entries) at a full domain point, in ``O(size)``."""
    return dense_mle(t_alpha_values(alpha, size, lam), point)


@dataclass(frozen=True)
class InferencePublicEvals:
    """
    The verifier's public values at the sumcheck point ``u`` (docs/proof-system.md §7 step 5).

    Attributes
    ----------
    eq_tau :
        ``eq(τ, u_i)``.
    eq_tau2 :
        ``eq(τ″, u)``.
    x, delta0, c_rho, c_u, sel, top :
        The column vectors' MLEs at ``u_j``.
    y, sigma :
        The row vectors' MLEs at ``u_i``.
    t_alpha :
        ``Tα``'s MLE at ``u``.
    """

    eq_tau: int
    eq_tau2: int
    x: int
    delta0: int
    c_rho: int
    c_u: int
    sel: int
    top: int
    y: int
    sigma: int
    t_alpha: int


def inference_public_evals(
    limb: LimbLayout,
    x: Sequence[int],
    y: Sequence[int],
    activation: int,
    alpha: int,
    tau: Sequence[int],
    tau2: Sequence[int],
    point: Sequence[int],
    *,
    lam: int,
) -> InferencePublicEvals:
    """
    Compute every public value the inference verifier needs, in ``O(n + m + TS + ℓ)``.

    Parameters
    ----------
    limb :
        The inference layout.
    x, y :
        The statement's signed int8 input (``n``) and output (``m``).
    activation :
        0 (none) or 1 (relu).
    alpha, tau, tau2 :
        The challenges ``α``, ``τ`` (``μ_i``), ``τ″`` (``ℓ``).
    point :
        ``u = (u_1..u_ℓ)``.
    lam :
        The sub-table separator ``λ`` (§3).
    """
    shape = limb.shape
    u_i, u_j = shape.split_point(point)
    # σ over the m real rows, plus the padded rows' constant σ (−1 for relu, 0 for none):
    # Σ_{i ≥ m} eq(u_i, i) = 1 − Σ_{i < m} eq(u_i, i).
    e_rows = eq_prefix(u_i, shape.m)
    sigma_real = sigma_rows(shape, y, activation)[: shape.m]
    sigma = sum(s * e for s, e in zip(sigma_real, e_rows, strict=True))
    if activation == 1 and shape.m_pad > shape.m:
        sigma -= 1 - sum(e_rows)
    e_cols = eq_prefix(u_j, max(shape.n + 1, limb.limbs))
    xs = x_column(x)
    return InferencePublicEvals(
        eq_tau=eq_eval(tau, u_i),
        eq_tau2=eq_eval(tau2, point),
        x=sum(v * e for v, e in zip(xs, e_cols, strict=False)) % R,
        delta0=e_cols[0],
        c_rho=sum(c * e for c, e in zip(c_rho_column(limb), e_cols, strict=False)) % R,
        c_u=sum(c * e for c, e in zip(c_u_column(limb), e_cols, strict=False)) % R,
        sel=sum(e_cols[: limb.limbs]) % R,
        top=e_cols[limb.k_rho - 1],
        y=sum(v * e for v, e in zip(y_rows(y), e_rows, strict=True)) % R,
        sigma=sigma % R,
        t_alpha=t_alpha_mle(alpha, limb.table_size, point, lam),
    )


# ----------------------------------------------------------------------------
# Registration public vectors (§4)
# ----------------------------------------------------------------------------


def sel_w_column(shape: Layout) -> list[int]:
    """``selW``: 1 for ``j < n``."""
    return [1] * shape.n


def sel_b_column() -> list[int]:
    """``selB``: 1 for ``j < 4``."""
    return [1] * BIAS_LIMBS


def delta_n_column(shape: Layout) -> list[int]:
    """``δn``: 1 at ``j = n`` only."""
    return [0] * shape.n + [1]


def c_b_column() -> list[int]:
    """``cb``: ``2^{8j}`` for ``j < 4``."""
    return [1 << (8 * j) for j in range(BIAS_LIMBS)]


@dataclass(frozen=True)
class RegistrationPublicEvals:
    """
    The registration verifier's public values at ``u``.

    Attributes
    ----------
    eq_tau, eq_tau2 :
        ``eq(τ, u_i)`` and ``eq(τ″, u)``.
    sel_w, sel_b, delta_n, c_b :
        The column vectors' MLEs at ``u_j``.
    t_alpha :
        ``Tα``'s MLE at ``u`` (256 entries).
    """

    eq_tau: int
    eq_tau2: int
    sel_w: int
    sel_b: int
    delta_n: int
    c_b: int
    t_alpha: int


def registration_public_evals(
    shape: Layout, alpha: int, tau: Sequence[int], tau2: Sequence[int], point: Sequence[int]
) -> RegistrationPublicEvals:
    """Compute every public value the registration verifier needs, in ``O(n + 256 + ℓ)``."""
    u_i, u_j = shape.split_point(point)
    e_cols = eq_prefix(u_j, max(shape.n + 1, BIAS_LIMBS))
    return RegistrationPublicEvals(
        eq_tau=eq_eval(tau, u_i),
        eq_tau2=eq_eval(tau2, point),
        sel_w=sum(e_cols[: shape.n]) % R,
        sel_b=sum(e_cols[:BIAS_LIMBS]) % R,
        delta_n=e_cols[shape.n],
        c_b=sum(c * e for c, e in zip(c_b_column(), e_cols, strict=False)) % R,
        t_alpha=t_alpha_mle(alpha, BYTE_TABLE_SIZE, point),
    )
