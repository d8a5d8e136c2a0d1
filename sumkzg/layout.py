"""
The layout of one layer over the sumcheck domain, and the public column vectors
(docs/proof-system.md §3, §4, §5).

Introduction
------------
:class:`Layout` holds the derived sizes of a shape ``(m, n)`` (``m'``, ``n'``, ``μ_i``, ``μ_j``,
``ℓ``, the columns per chunk ``cpc`` and data columns per chunk ``g``, the chunk counts ``K_W``,
``K_B``, ``K_HW``) and the position ``pos(c)`` of each of ``W′``'s data columns; :class:`LimbLayout`
adds the sizes that depend on the shift ``k`` (``Kρ``, ``Ku``, ``L``, ``k'``, ``TS``, ``K_L``). Both
refuse out-of-range input with :class:`LayoutError`.

The domain is ``{0,1}^ℓ``; entry ``(i, j)`` has flat index ``f = i + m'·j``; variable ``v``
(1-based) is bit ``v−1`` of ``f``, so a point ``u = (u_1..u_ℓ)`` splits into
``u_i = (u_1..u_{μ_i})`` (the bits of ``i``) and ``u_j = (u_{μ_i+1}..u_ℓ)`` (the bits of ``j``).

``W′`` (docs/proof-system.md §4): a chunk of ``D`` flat indices holds ``cpc = D/m'`` whole
columns; the last column of every weight chunk is that chunk's blinding column, the other
``g = cpc − 1`` hold data columns, so data column ``c`` (``W``'s columns ``0..n−1``, then the bias
as ``c = n``) sits at layout column ``pos(c) = c + ⌊c/g⌋``, and every weight chunk commitment is
perfectly hiding.

The per-proof limb polynomials use the same rule (docs/proof-system-zk.md Z1, Z2): limb column
``t`` (inference ``Limb``/``H``, ``t < L``; registration ``BL``/``HB``, ``t < 4``) sits at
``posL(t) = t + ⌊t/g⌋`` (:meth:`Layout.limb_position`), so the last column ``cpc·κ + g`` of every
chunk ``κ`` is free, and rows 0 and 1 of it hold that chunk's two fresh blinding entries
(:meth:`Layout.free_cells`): every chunk commitment of those polynomials is hiding.

The public column vectors are given twice: as short lists (``*_column``/``*_rows``: the non-zero
prefix, every later entry is 0), which the prover uses as tables, and as their multilinear
extensions evaluated the way the verifier does it (``*_mle``): in time linear in the number of
non-zero entries, never over the whole domain, with one batch inversion for ``Tα``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import ProofRejected, SumKzgError
from .field import R, batch_inv, eq_eval
from .setup import LOG_D, D

MAX_DIM = 65534
"""The largest accepted ``m`` and ``n``."""
MAX_ELL = 24
"""The largest accepted number of sumcheck variables ``ℓ``."""
MAX_ROWS_PAD = D // 2
"""The largest accepted ``m'``: a weight chunk must hold at least two columns, one of which is its
blinding column."""
MAX_LIMBS = 10
"""The largest number of inference limb columns ``L = Kρ + Ku`` (any ``k``)."""
MIN_COLS_PAD = 16
"""The smallest ``n'``."""
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


def _limb_chunks(count: int, cpc: int) -> int:
    """``⌊posL(count − 1)/cpc⌋ + 1`` with ``posL(t) = t + ⌊t/(cpc − 1)⌋``."""
    last = count - 1
    return (last + last // (cpc - 1)) // cpc + 1


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

    Build it with :meth:`of`, which checks ``1 <= m, n <= 65534``, ``m' <= D/2`` and ``ℓ <= 24``;
    every field is then consistent: ``m_pad = 2^mu_i``, ``n_pad = 2^mu_j``,
    ``ell = mu_i + mu_j >= 12``, ``cpc·k_w <= n_pad``.

    Attributes
    ----------
    m, n :
        Rows (outputs) and columns (inputs).
    m_pad :
        ``m' = max(2, 2^⌈log₂ m⌉) <= D/2`` (docs/proof-system-zk.md Z1: at least two blinding
        entries per weight chunk).
    cpc :
        ``D / m' >= 2``: the columns of one chunk.
    g :
        ``cpc − 1``: the data columns of one weight chunk (its last column is its blinding
        column).
    n_pad :
        ``n' = max(2^⌈log₂(cpc·K_W)⌉, 2^⌈log₂(cpc·K_L^max)⌉, 16)`` with ``K_L^max`` the chunk
        count of ``L = 10`` limb columns (:meth:`limb_chunks`); the middle term exceeds 16 only for
        ``m' = D/2`` (``cpc = 2``: 20 columns, so ``n' >= 32``).
    mu_i, mu_j, ell :
        ``log₂ m'``, ``log₂ n'`` and ``ℓ = μ_i + μ_j``.
    k_w :
        ``K_W = ⌈(n+1) / g⌉`` chunks of ``W′`` (the ``n+1`` data columns, ``g`` per chunk).
    k_b :
        ``K_B = ⌊posB(3)/cpc⌋ + 1`` chunks of the bias limbs ``BL`` and of ``HB``: limb column
        ``t < 4`` at ``posB(t) = t + ⌊t/g⌋``, the two blinding entries of every chunk ``κ`` at rows
        0, 1 of its free column ``cpc·κ + g`` (docs/proof-system-zk.md Z1, Z2).
    k_hw :
        ``K_HW = K_W`` chunks of ``HW``.
    """

    m: int
    n: int
    m_pad: int
    n_pad: int
    mu_i: int
    mu_j: int
    ell: int
    cpc: int
    g: int
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
            If ``m`` or ``n`` is not an int in ``1 .. 65534``, ``m > 2048`` (``m' > D/2``: a chunk
            must hold at least two columns, one of them its blinding column), or ``ℓ > 24``.
        """
        _require_int(m, 1, MAX_DIM, "m")
        _require_int(n, 1, MAX_DIM, "n")
        mu_i = max(1, _log2_ceil(m))
        m_pad = 1 << mu_i
        if m_pad > MAX_ROWS_PAD:
            raise LayoutError(
                f"shape {m}×{n}: m' = {m_pad} > D/2 = {MAX_ROWS_PAD} (a weight chunk must hold "
                "at least two columns, one of them its blinding column)"
            )
        cpc = D // m_pad
        g = cpc - 1
        k_w = -(-(n + 1) // g)
        limb_cols = cpc * _limb_chunks(MAX_LIMBS, cpc)
        n_pad = max(1 << _log2_ceil(cpc * k_w), 1 << _log2_ceil(limb_cols), MIN_COLS_PAD)
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
            cpc=cpc,
            g=g,
            k_w=k_w,
            k_b=_limb_chunks(BIAS_LIMBS, cpc),
            k_hw=k_w,
        )

    def pos(self, c: int) -> int:
        """
        The layout column ``c + ⌊c/g⌋`` of data column ``c`` (``c < n``: ``W``'s column ``c``;
        ``c = n``: the bias).
        """
        if not 0 <= c <= self.n:
            raise LayoutError(f"data column {c} outside 0 .. {self.n}")
        return c + c // self.g

    def positions(self) -> npt.NDArray[np.int64]:
        """``pos(c)`` for ``c = 0..n`` (``n+1`` strictly increasing layout columns)."""
        c = np.arange(self.n + 1, dtype=np.int64)
        return c + c // self.g

    def limb_position(self, t: int) -> int:
        """
        The layout column ``posL(t) = t + ⌊t/g⌋`` of limb column ``t`` (inference ``Limb``/``H``,
        registration ``BL``/``HB``): the limb columns skip the last column of every chunk.
        """
        if t < 0:
            raise LayoutError(f"limb column {t} < 0")
        return t + t // self.g

    def limb_positions(self, count: int) -> list[int]:
        """``posL(t)`` for ``t < count``."""
        return [t + t // self.g for t in range(count)]

    def limb_chunks(self, count: int) -> int:
        """``⌊posL(count − 1)/cpc⌋ + 1``: the chunks of ``count`` limb columns."""
        return _limb_chunks(count, self.cpc)

    def free_cells(self, chunks: int) -> list[tuple[int, int]]:
        """
        The cells ``(row, column)`` of the two blinding entries of every chunk ``κ < chunks`` of a
        limb polynomial (docs/proof-system-zk.md Z2): rows 0 and 1 of the chunk's last column
        ``cpc·κ + g``, chunk by chunk (``m' >= 2``).
        """
        return [(row, self.cpc * kappa + self.g) for kappa in range(chunks) for row in (0, 1)]

    def bias_positions(self) -> list[int]:
        """``posB(t)`` for the four bias limb columns ``t < 4``."""
        return self.limb_positions(BIAS_LIMBS)

    def blinding_column(self, chunk: int) -> int:
        """The layout column ``cpc·κ + g`` of chunk ``κ``'s blinding column (``κ < K_W``)."""
        if not 0 <= chunk < self.k_w:
            raise LayoutError(f"weight chunk {chunk} outside 0 .. {self.k_w - 1}")
        return self.cpc * chunk + self.g

    def blinding_columns(self) -> npt.NDArray[np.int64]:
        """The ``K_W`` blinding columns, in chunk order."""
        return np.arange(self.k_w, dtype=np.int64) * self.cpc + self.g

    @property
    def weight_columns(self) -> int:
        """``cpc·K_W``: the layout columns of ``W′``'s chunks (every later column is 0)."""
        return self.cpc * self.k_w

    @property
    def blinding_size(self) -> int:
        """``K_W·m'``: the secret blinding entries of a weight commitment."""
        return self.k_w * self.m_pad

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
        ``K_L = ⌊posL(L−1)/cpc⌋ + 1`` chunks of ``Limb`` and of ``H``: limb column ``t`` at
        ``posL(t) = t + ⌊t/g⌋``, the two blinding entries of every chunk ``κ`` at rows 0, 1 of its
        free column ``cpc·κ + g`` (docs/proof-system-zk.md Z1, Z2).
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
            k_l=shape.limb_chunks(limbs),
        )

    def positions(self) -> list[int]:
        """``posL(t)`` for the ``L`` limb columns."""
        return self.shape.limb_positions(self.limbs)

    @property
    def width(self) -> int:
        """``cpc·K_L``: the layout columns of ``Limb``'s and ``H``'s chunks."""
        return self.shape.cpc * self.k_l

    def blinding_cells(self) -> list[tuple[int, int]]:
        """The ``2·K_L`` cells of ``Limb``'s (and ``H``'s) blinding entries, chunk by chunk."""
        return self.shape.free_cells(self.k_l)


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


def x_column(shape: Layout, x: Sequence[int]) -> list[int]:
    """
    ``x′`` as signed integers: ``x_c`` at ``pos(c)`` (``c < n``), 1 at ``pos(n)``, 0 elsewhere
    (length ``pos(n) + 1``; later entries 0, the blinding columns included).
    """
    if len(x) != shape.n:
        raise LayoutError(f"x has {len(x)} entries, expected {shape.n}")
    out = [0] * (shape.pos(shape.n) + 1)
    for c, v in enumerate(x):
        out[c + c // shape.g] = int(v)
    out[-1] = 1
    return out


def gather(table: Sequence[int], indices: Sequence[int] | npt.NDArray[np.int64]) -> list[int]:
    """``[table[f] for f in indices]``."""
    return [table[int(f)] for f in indices]


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


def at_positions(positions: Sequence[int], values: Sequence[int]) -> list[int]:
    """The column vector with ``values[t]`` at ``positions[t]`` and 0 elsewhere (its prefix up to
    the last position)."""
    out = [0] * (max(positions) + 1)
    for p, v in zip(positions, values, strict=True):
        out[p] = v
    return out


def delta0_column() -> list[int]:
    """``δ0``: ``[1]`` (the indicator of ``j = 0 = posL(0)``)."""
    return [1]


def c_rho_column(limb: LimbLayout) -> list[int]:
    """``cρ``: ``2^{8t}`` at ``posL(t)`` for ``t < Kρ``."""
    pos = limb.positions()[: limb.k_rho]
    return at_positions(pos, [1 << (8 * t) for t in range(limb.k_rho)])


def c_u_column(limb: LimbLayout) -> list[int]:
    """``cu``: ``2^{8(t−Kρ)}`` at ``posL(t)`` for ``Kρ <= t < L``, 0 elsewhere."""
    return at_positions(
        limb.positions(), [0] * limb.k_rho + [1 << (8 * t) for t in range(limb.k_u)]
    )


def sel_column(limb: LimbLayout) -> list[int]:
    """``sel``: 1 at ``posL(t)`` for ``t < L``."""
    return at_positions(limb.positions(), [1] * limb.limbs)


def top_column(limb: LimbLayout) -> list[int]:
    """``top``: 1 at ``posL(Kρ − 1)`` only."""
    return at_positions([limb.positions()[limb.k_rho - 1]], [1])


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
        ``eq(τ″_i, u_i)·ẽ″(u_j)``: the factor of ``B2`` at ``u`` (docs/proof-system-zk.md Z3,
        ``e″(j) = sel(j)·eq(τ″_j, j)``).
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
    # x̃′(u_j) = Σ_{c<n} x_c·eq(u_j, pos(c)) + eq(u_j, pos(n)): one eq table, gathered.
    positions = shape.positions()
    limb_pos = limb.positions()
    e_cols = eq_prefix(u_j, max(int(positions[-1]), limb_pos[-1]) + 1)
    e_data = gather(e_cols, positions)
    e_limb = gather(e_cols, limb_pos)
    if len(x) != shape.n:
        raise LayoutError(f"x has {len(x)} entries, expected {shape.n}")
    tau2_i, tau2_j = shape.split_point(tau2)
    e2_cols = column_eq_values(tau2_j, limb_pos)
    return InferencePublicEvals(
        eq_tau=eq_eval(tau, u_i),
        eq_tau2=eq_eval(tau2_i, u_i)
        * sum(a * b for a, b in zip(e2_cols, e_cols, strict=False))
        % R,
        x=(sum(int(v) * e for v, e in zip(x, e_data, strict=False)) + e_data[-1]) % R,
        delta0=e_cols[0],
        c_rho=sum(c * e for c, e in zip(c_rho_column(limb), e_cols, strict=False)) % R,
        c_u=sum(c * e for c, e in zip(c_u_column(limb), e_cols, strict=False)) % R,
        sel=sum(e_limb) % R,
        top=e_limb[limb.k_rho - 1],
        y=sum(v * e for v, e in zip(y_rows(y), e_rows, strict=True)) % R,
        sigma=sigma % R,
        t_alpha=t_alpha_mle(alpha, limb.table_size, point, lam),
    )


# ----------------------------------------------------------------------------
# Registration public vectors (§4)
# ----------------------------------------------------------------------------


def sel_w_column(shape: Layout) -> list[int]:
    """``selW``: 1 at ``j = pos(c)`` for ``c < n`` (length ``pos(n−1) + 1``; later entries 0)."""
    out = [0] * (shape.pos(shape.n - 1) + 1)
    for j in shape.positions()[:-1]:
        out[int(j)] = 1
    return out


def sel_b_column(shape: Layout) -> list[int]:
    """``selB``: 1 at ``posB(t)`` for ``t < 4``."""
    return at_positions(shape.bias_positions(), [1] * BIAS_LIMBS)


def delta_n_column(shape: Layout) -> list[int]:
    """``δn``: 1 at ``j = pos(n)`` (the bias column) only."""
    return [0] * shape.pos(shape.n) + [1]


def c_b_column(shape: Layout) -> list[int]:
    """``cb``: ``2^{8t}`` at ``posB(t)`` for ``t < 4``."""
    return at_positions(shape.bias_positions(), [1 << (8 * t) for t in range(BIAS_LIMBS)])


@dataclass(frozen=True)
class RegistrationPublicEvals:
    """
    The registration verifier's public values at ``u``.

    Attributes
    ----------
    eq_tau :
        ``eq(τ, u_i)``.
    eq_tau2_w, eq_tau2_b :
        ``eq(τ″_i, u_i)·ẽW″(u_j)`` and ``eq(τ″_i, u_i)·ẽB″(u_j)``: the factors of ``B2W`` and
        ``B2B`` at ``u`` (docs/proof-system-zk.md Z3).
    sel_w, sel_b, delta_n, c_b :
        The column vectors' MLEs at ``u_j``.
    t_alpha :
        ``Tα``'s MLE at ``u`` (256 entries).
    """

    eq_tau: int
    eq_tau2_w: int
    eq_tau2_b: int
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
    positions = shape.positions()
    bias_pos = shape.bias_positions()
    e_cols = eq_prefix(u_j, max(int(positions[-1]), bias_pos[-1]) + 1)
    e_data = gather(e_cols, positions)
    e_bias = gather(e_cols, bias_pos)
    tau2_i, tau2_j = shape.split_point(tau2)
    eq2_i = eq_eval(tau2_i, u_i)
    ew = column_eq_values(tau2_j, positions[:-1])
    eb = column_eq_values(tau2_j, bias_pos)
    return RegistrationPublicEvals(
        eq_tau=eq_eval(tau, u_i),
        eq_tau2_w=eq2_i * sum(a * b for a, b in zip(ew, e_cols, strict=False)) % R,
        eq_tau2_b=eq2_i * sum(a * b for a, b in zip(eb, e_cols, strict=False)) % R,
        sel_w=sum(e_data[:-1]) % R,
        sel_b=sum(e_bias) % R,
        delta_n=e_data[-1],
        c_b=sum(c * e for c, e in zip(c_b_column(shape), e_cols, strict=False)) % R,
        t_alpha=t_alpha_mle(alpha, BYTE_TABLE_SIZE, point),
    )


# ----------------------------------------------------------------------------
# Restricted zero-check columns (docs/proof-system-zk.md Z3)
# ----------------------------------------------------------------------------


def column_eq_values(
    tau2_j: Sequence[int], columns: Sequence[int] | npt.NDArray[np.int64] | range
) -> list[int]:
    """
    The column vector ``e(j) = [j ∈ columns]·eq(τ″_j, j)`` as its non-zero prefix (length
    ``max(columns) + 1``): ``e″`` (``columns = posL(0..L−1)``), ``eW″`` (``pos(c)``, ``c < n``)
    or ``eB″`` (``posB(0..3)``) of docs/proof-system-zk.md Z3. ``O(max(columns) + μ_j)``.
    """
    cols = [int(c) for c in columns]
    if not cols:
        return []
    size = max(cols) + 1
    table = eq_prefix(tau2_j, size)
    out = [0] * size
    for c in cols:
        out[c] = table[c]
    return out
