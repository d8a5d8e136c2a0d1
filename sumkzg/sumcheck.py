"""
The sumcheck prover engine and the verifier's round checks (docs/proof-system.md §7 step 4).

Introduction
------------
The relation is a sum of **terms**, each a coefficient times a product of multilinear tables over
the domain ``{0,1}^ℓ`` (``ℓ = μ_i + μ_j``, flat index ``f = i + m'·j``). The sumcheck binds the
**top variable first** (round ``t = 1..ℓ`` binds variable ``ℓ + 1 − t``): the first ``μ_j``
rounds bind the bits of the column ``j`` from the top, the last ``μ_i`` rounds the bits of the row
``i``. Every round polynomial must have degree ``≤ 3``: a term may have at most three factors
that depend on ``j`` and at most three that depend on ``i``.

The engine never builds a dense ``2^ℓ`` table. A table is one of

* :class:`Vec` of kind ``"i"`` (a function of the row only, ``m'`` values) or ``"j"`` (a function of
  the column only, with implicit zeros after its stored prefix);
* :class:`Grid` of kind ``"ij"``: the first ``c`` columns of a ``m'×n'`` table, the others 0;
* :class:`WeightGrid` of kind ``"ij"``: an integer matrix (``W`` and ``b``) whose columns sit at
  given layout columns, plus full-field columns at other layout columns (the blinding columns,
  interleaved), used only **linearly** (at most one ``ij`` factor in its terms).

During the column rounds the row-only factors of a term do not change, so a term with exactly one
``ij`` factor ``T`` is first contracted over the rows, ``v(j) = Σ_i P(i)·T(i, j)`` with ``P`` the
product of its row factors (for :class:`WeightGrid`: one :func:`~sumkzg.field.field_gemv_int`),
and ``v`` is then bound like a column vector; a term without ``ij`` factor reduces to the scalar
``Σ_i P(i)`` times its column factors. Only terms with two or more ``ij`` factors are evaluated on
the ``m'×c`` grid each round. After the column rounds every ``ij`` table becomes a row vector (for
:class:`WeightGrid`: one :func:`~sumkzg.field.field_gemv_int_t` with ``eq(u_j)``), every column
vector a scalar, and the row rounds are an ordinary sumcheck over ``m'`` entries.

Field elements are Python ints in numpy ``object`` arrays, reduced mod ``R`` after each product.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from .accel import field_gemv_int, field_gemv_int_t
from .errors import ProofRejected, SumKzgError
from .field import R, lagrange_eval_0123, scalar_to_bytes
from .layout import eq_prefix
from .transcript import TAG_SUMCHECK_ROUND, Transcript

ObjArray = npt.NDArray[np.object_]
Kind = Literal["i", "j", "ij"]
ROUND_EVALS = 4
"""Scalars per round: ``s(0), s(1), s(2), s(3)``."""
MAX_DEGREE = 3


class SumcheckError(SumKzgError, ValueError):
    """A relation given to the engine is malformed (unknown table, degree above 3, bad size)."""


def obj_array(values: Sequence[int] | npt.NDArray[np.generic]) -> ObjArray:
    """
    Return the values as a (new) 1-D or 2-D ``object`` array of Python ints reduced mod ``R``;
    signed integers (and numpy integer arrays) enter the field as ``v mod R``.
    """
    if isinstance(values, np.ndarray):
        if values.dtype == object:
            return np.asarray(values % R, dtype=object)
        return np.asarray(values.astype(np.int64).astype(object) % R, dtype=object)
    out = np.empty(len(values), dtype=object)
    out[:] = [int(v) % R for v in values]
    return out


def _zeros(shape: int | tuple[int, int]) -> ObjArray:
    out = np.empty(shape, dtype=object)
    out.fill(0)
    return out


class Vec:
    """
    A row-only (``"i"``) or column-only (``"j"``) table: ``values`` is the stored prefix, every
    later entry of the ``2^μ`` entries is 0.
    """

    def __init__(self, kind: Literal["i", "j"], values: Sequence[int] | ObjArray) -> None:
        self.kind: Kind = kind
        self.values: ObjArray = obj_array(values)

    @property
    def support(self) -> int:
        """The stored prefix length."""
        return len(self.values)

    def bind(self, u: int, half: int) -> None:
        """Bind the current top variable of a ``2·half``-entry vector to ``u``."""
        self.values = _bind_1d(self.values, u, half)

    def value(self) -> int:
        """The value once every variable is bound."""
        return int(self.values[0]) if len(self.values) else 0


class Grid:
    """
    An ``ij`` table: ``values[i, j]`` for ``i < m'`` and the first ``c`` columns; later columns 0.
    """

    kind: Kind = "ij"

    def __init__(self, values: ObjArray) -> None:
        if values.ndim != 2:
            raise SumcheckError("a grid needs a 2-D array")
        self.values: ObjArray = obj_array(values)

    @property
    def support(self) -> int:
        """The stored columns."""
        return int(self.values.shape[1])

    def contract(self, rows: ObjArray | None) -> ObjArray:
        """``v(j) = Σ_i rows[i]·T(i, j)`` over the stored columns (``rows`` None: all ones)."""
        if rows is None:
            return np.asarray(self.values.sum(axis=0) % R, dtype=object)
        return np.asarray(np.dot(rows, self.values) % R, dtype=object)

    def bind(self, u: int, half: int) -> None:
        """Bind the current top column variable (``2·half`` columns) to ``u``."""
        c = self.support
        r = min(c, half)
        lo = self.values[:, :r]
        if c <= half:
            self.values = np.asarray(lo * ((1 - u) % R) % R, dtype=object)
            return
        hi = _zeros((self.values.shape[0], r))
        hi[:, : c - half] = self.values[:, half:c]
        self.values = np.asarray((lo + (hi - lo) * u) % R, dtype=object)

    def to_rows(self) -> Vec:
        """Once the column variables are bound: the row vector ``T(i, u_j)``."""
        if self.support == 0:
            return Vec("i", _zeros(self.values.shape[0]))
        return Vec("i", np.asarray(self.values[:, 0], dtype=object))


class WeightGrid:
    """
    ``W′`` for the prover: an integer block ``ints`` (rows ``< ints.shape[0]``, ``|entry| <=
    2^31``) whose column ``t`` is layout column ``positions[t]``, plus full-field columns
    ``extra[c]`` at layout columns ``c`` not in ``positions`` (one value per row, missing rows 0);
    every other entry 0. Used only linearly. The integer block stays compact: the contractions are
    one field × int GEMV over it (:func:`~sumkzg.accel.field_gemv_int`) plus one ``object`` dot
    product over the extra columns.

    Parameters
    ----------
    ints :
        The integer block (``W`` and the bias column).
    extra :
        Field columns by layout column (the blinding columns).
    rows :
        ``m'``.
    positions :
        The layout column of each column of ``ints``, strictly increasing; by default
        ``0..ints.shape[1]−1``.
    """

    kind: Kind = "ij"

    def __init__(
        self,
        ints: npt.NDArray[np.integer],
        extra: Mapping[int, Sequence[int] | ObjArray],
        rows: int,
        positions: Sequence[int] | npt.NDArray[np.integer] | None = None,
    ) -> None:
        if ints.ndim != 2 or ints.shape[0] > rows:
            raise SumcheckError("the integer block must be 2-D with at most m' rows")
        cols = (
            np.arange(ints.shape[1], dtype=np.int64)
            if positions is None
            else np.asarray(positions, dtype=np.int64).reshape(-1)
        )
        if len(cols) != ints.shape[1] or (
            len(cols) and (int(cols[0]) < 0 or bool(np.any(np.diff(cols) <= 0)))
        ):
            raise SumcheckError("positions must be one increasing column index per integer column")
        taken = set(cols.tolist())
        if any(c < 0 or c in taken or len(col) > rows for c, col in extra.items()):
            raise SumcheckError("extra columns must be at free layout columns, at most m' rows")
        self.ints = ints
        self.positions = cols
        self.extra_columns = np.array(sorted(extra), dtype=np.int64)
        values = np.zeros((len(extra), rows), dtype=object)
        for e, c in enumerate(self.extra_columns.tolist()):
            col = np.empty(len(extra[c]), dtype=object)
            col[:] = extra[c]
            values[e, : len(col)] = col % R
        self.extra_values: ObjArray = values
        self.rows = rows
        last = [int(cols[-1]) + 1] if len(cols) else []
        self.columns = max([0, *last, *(int(c) + 1 for c in self.extra_columns)])

    def contract(self, rows: ObjArray | None) -> ObjArray:
        """``v(j) = Σ_i rows[i]·W′(i, j)`` for ``j < columns`` (one field × int GEMV)."""
        weights = [1] * self.rows if rows is None else [int(v) for v in rows]
        out = _zeros(self.columns)
        data = _zeros(len(self.positions))
        data[:] = field_gemv_int(weights[: self.ints.shape[0]], self.ints)
        out[self.positions] = data
        if len(self.extra_columns):
            w = _zeros(self.rows)
            w[:] = weights
            out[self.extra_columns] = np.dot(self.extra_values, w) % R
        return out

    def rows_at(self, u_j: Sequence[int]) -> Vec:
        """``W′(i, u_j) = Σ_j W′(i, j)·eq(u_j, j)`` for ``i < m'`` (one transposed GEMV)."""
        e = eq_prefix(u_j, self.columns)
        rows = _zeros(self.rows)
        e_data = [e[int(j)] for j in self.positions]
        rows[: self.ints.shape[0]] = field_gemv_int_t(e_data, self.ints)
        if len(self.extra_columns):
            e_extra = _zeros(len(self.extra_columns))
            e_extra[:] = [e[int(j)] for j in self.extra_columns]
            rows = np.asarray((rows + np.dot(e_extra, self.extra_values)) % R, dtype=object)
        return Vec("i", rows)


class PeriodicGrid:
    """
    The weight mask ``R`` as an ``ij`` table over the domain (docs/proof-system-zk.md Z4):
    ``R(f) = mask[f mod len(mask)]`` for the flat index ``f = i + m'·j``, with ``len(mask) = D/2``
    a multiple of ``m'``; so ``R(i, j) = mask[i + m'·(j mod P)]``, ``P = len(mask)/m'``, and its
    MLE is ``R̃(X_1..X_{d−1})`` (it depends on no variable above ``d − 1``). Never materialised
    densely: :meth:`contract` is ``O(D + columns)`` and :meth:`rows_at` ``O(D)``.

    Used only **linearly**. :meth:`contract` gives the first ``columns`` columns; pass
    ``columns = n'`` (the whole domain): a shorter contraction is exact on the hypercube but not
    for the round polynomials, whose lines need the value at ``j + half`` for every ``j`` of the
    other factors' support.

    Parameters
    ----------
    mask :
        ``R`` (``D/2`` field elements).
    rows :
        ``m'`` (a power of two dividing ``len(mask)``).
    columns :
        How many columns :meth:`contract` gives (``n'``).
    """

    kind: Kind = "ij"

    def __init__(self, mask: Sequence[int] | ObjArray, rows: int, columns: int) -> None:
        if rows <= 0 or len(mask) % rows or len(mask) < rows:
            raise SumcheckError("the mask length must be a multiple of m'")
        self.rows = rows
        self.columns = columns
        self.period = len(mask) // rows
        # block[i, p] = mask[i + m'·p]
        self.block: ObjArray = obj_array(list(mask)).reshape(self.period, rows).T.copy()

    def contract(self, rows: ObjArray | None) -> ObjArray:
        """``v(j) = Σ_i rows[i]·R(i, j)`` for ``j < columns`` (periodic in ``j``)."""
        if rows is None:
            per = np.asarray(self.block.sum(axis=0) % R, dtype=object)
        else:
            w = _zeros(self.rows)
            w[:] = [int(v) for v in rows]
            per = np.asarray(np.dot(w, self.block) % R, dtype=object)
        reps = -(-self.columns // self.period) if self.columns else 0
        return np.asarray(np.tile(per, reps)[: self.columns], dtype=object)

    def rows_at(self, u_j: Sequence[int]) -> Vec:
        """
        ``R(i, u_j)``: only the low ``log₂ P`` column variables matter (``Σ eq`` over the others
        is 1).
        """
        bits = self.period.bit_length() - 1
        e = eq_prefix(list(u_j)[:bits], self.period)
        w = _zeros(self.period)
        w[:] = e
        return Vec("i", np.asarray(np.dot(self.block, w) % R, dtype=object))


Table = Vec | Grid | WeightGrid | PeriodicGrid
"""Any table the engine accepts."""


@dataclass(frozen=True)
class Term:
    """
    ``coeff · Π factors``: a coefficient (an integer, reduced mod ``R``) and table names.
    """

    coeff: int
    factors: tuple[str, ...]


def _bind_1d(values: ObjArray, u: int, half: int) -> ObjArray:
    """``new[j] = (1−u)·v[j] + u·v[j + half]`` for a vector with implicit zeros past its prefix."""
    c = len(values)
    if c <= half:
        return np.asarray(values * ((1 - u) % R) % R, dtype=object)
    lo = values[:half]
    hi = _zeros(half)
    hi[: c - half] = values[half:]
    return np.asarray((lo + (hi - lo) * u) % R, dtype=object)


def _halves_1d(values: ObjArray, half: int, r: int) -> tuple[ObjArray, ObjArray | None]:
    """The entries ``j < r`` of the low and high halves (``None`` for an all-zero high half)."""
    c = len(values)
    lo = values[:r]
    if c <= half:
        return lo, None
    hi = _zeros(r)
    top = min(c, half + r)
    hi[: top - half] = values[half:top]
    return lo, hi


def _halves_2d(values: ObjArray, half: int, r: int) -> tuple[ObjArray, ObjArray | None]:
    c = values.shape[1]
    lo = values[:, :r]
    if c <= half:
        return lo, None
    hi = _zeros((values.shape[0], r))
    top = min(c, half + r)
    hi[:, : top - half] = values[:, half:top]
    return lo, hi


def _line(lo: ObjArray, hi: ObjArray) -> list[ObjArray]:
    """``[e(0), e(1), e(2), e(3)]`` of ``e(X) = lo + X·(hi − lo)``, reduced."""
    d = (hi - lo) % R
    e2 = (hi + d) % R
    e3 = (e2 + d) % R
    return [lo, hi, e2, e3]


# (1 − X) for X = 0..3, used when a factor's high half is zero.
_ONE_MINUS = (1, 0, R - 1, R - 2)


def _product_evals(pairs: list[tuple[ObjArray, ObjArray | None]]) -> list[ObjArray | int]:
    """
    ``Π_k e_k(X)`` for ``X = 0..3``; a factor with zero high half contributes ``(1−X)·lo``.

    Returns a list of four arrays (or the int 0 where the product vanishes).
    """
    zero_high = [lo for lo, hi in pairs if hi is None]
    dense = [_line(lo, hi) for lo, hi in pairs if hi is not None]
    base: ObjArray | None = None
    for lo in zero_high:
        base = lo if base is None else np.asarray(base * lo % R, dtype=object)
    count = len(zero_high)
    out: list[ObjArray | int] = []
    for x in range(ROUND_EVALS):
        scale = pow(_ONE_MINUS[x], count, R)
        if scale == 0:
            out.append(0)
            continue
        acc = base
        for evals in dense:
            acc = evals[x] if acc is None else np.asarray(acc * evals[x] % R, dtype=object)
        if acc is None:
            raise SumcheckError("a product of no factors")
        out.append(np.asarray(acc * scale % R, dtype=object) if scale != 1 else acc)
    return out


def _vec_round(vectors: Sequence[ObjArray], half: int) -> list[int]:
    """``s(X) = Σ_{j < half} Π_k ((1−X)·v_k[j] + X·v_k[j+half])`` for ``X = 0..3``."""
    if not vectors:
        return [half % R] * ROUND_EVALS
    r = min(min(len(v), half) for v in vectors)
    if r == 0:
        return [0] * ROUND_EVALS
    products = _product_evals([_halves_1d(v, half, r) for v in vectors])
    return [0 if isinstance(p, int) else int(p.sum()) % R for p in products]


@dataclass
class _ColTerm:
    """A term during the column rounds, reduced to column vectors (``private`` are its own)."""

    coeff: int
    columns: list[str]
    private: list[Vec]


@dataclass
class _GridTerm:
    """A term with two or more ``ij`` factors, evaluated on the grid during the column rounds."""

    coeff: int
    rows: ObjArray | None
    grids: list[str]
    columns: list[str]


class SumcheckProver:
    """
    The sumcheck prover for ``Σ_{(i,j)} Σ_terms coeff·Π factors`` over ``{0,1}^{μ_i+μ_j}``.

    Parameters
    ----------
    mu_i, mu_j :
        The row and column variables (``m' = 2^μ_i`` rows, ``n' = 2^μ_j`` columns).
    tables :
        The tables by name; :class:`Vec` of kind ``"i"`` with at most ``m'`` values, of kind
        ``"j"`` with at most ``n'``, :class:`Grid` with ``m'`` rows and at most ``n'`` columns,
        :class:`WeightGrid` with ``m'`` rows. The engine binds them in place.
    terms :
        The relation. Each term has at most three ``i``/``ij`` and three ``j``/``ij`` factors; a
        :class:`WeightGrid` may only appear as the single ``ij`` factor of its terms.

    Raises
    ------
    SumcheckError
        If a term names an unknown table or breaks a degree or shape rule.
    """

    def __init__(
        self, mu_i: int, mu_j: int, tables: Mapping[str, Table], terms: Sequence[Term]
    ) -> None:
        self.mu_i = mu_i
        self.mu_j = mu_j
        self.tables: dict[str, Table] = dict(tables)
        self.terms = list(terms)
        self.challenges: list[int] = []
        rows = 1 << mu_i
        for name, table in self.tables.items():
            if isinstance(table, Vec):
                limit = rows if table.kind == "i" else 1 << mu_j
                if table.support > limit:
                    raise SumcheckError(f"table {name} has {table.support} > {limit} values")
            elif isinstance(table, Grid):
                if table.values.shape[0] != rows or table.support > 1 << mu_j:
                    raise SumcheckError(f"grid {name} has shape {table.values.shape}")
            elif table.rows != rows or table.columns > 1 << mu_j:
                raise SumcheckError(f"weight grid {name} does not fit the domain")
            elif isinstance(table, PeriodicGrid) and (1 << mu_j) % table.period:
                raise SumcheckError(f"periodic grid {name} does not fit the domain")
        for term in self.terms:
            kinds = [self._table(name).kind for name in term.factors]
            if sum(k != "i" for k in kinds) > MAX_DEGREE or sum(k != "j" for k in kinds) > 3:
                raise SumcheckError(f"term {term.factors} has degree > {MAX_DEGREE}")
            if kinds.count("ij") > 1 and any(
                isinstance(self.tables[n], (WeightGrid, PeriodicGrid)) for n in term.factors
            ):
                raise SumcheckError(f"term {term.factors} multiplies a weight grid")
        self._col_terms: list[_ColTerm] = []
        self._grid_terms: list[_GridTerm] = []
        self._row_scalars: dict[str, int] = {}
        self._prepare_column_phase()
        if mu_j == 0:
            self._enter_row_phase()

    @property
    def ell(self) -> int:
        """``ℓ = μ_i + μ_j``."""
        return self.mu_i + self.mu_j

    @property
    def round(self) -> int:
        """The number of rounds already bound."""
        return len(self.challenges)

    def _table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise SumcheckError(f"unknown table {name!r}") from None

    def _prepare_column_phase(self) -> None:
        rows = 1 << self.mu_i
        for term in self.terms:
            coeff = term.coeff % R
            row_product: ObjArray | None = None
            grids: list[str] = []
            columns: list[str] = []
            for name in term.factors:
                table = self.tables[name]
                if table.kind == "i":
                    assert isinstance(table, Vec)
                    vals = _zeros(rows)
                    vals[: table.support] = table.values
                    row_product = (
                        vals
                        if row_product is None
                        else np.asarray(row_product * vals % R, dtype=object)
                    )
                elif table.kind == "j":
                    columns.append(name)
                else:
                    grids.append(name)
            if not grids:
                total = rows if row_product is None else int(row_product.sum())
                self._col_terms.append(_ColTerm(coeff * total % R, columns, []))
            elif len(grids) == 1:
                grid = self.tables[grids[0]]
                assert isinstance(grid, (Grid, WeightGrid, PeriodicGrid))
                contracted = Vec("j", grid.contract(row_product))
                self._col_terms.append(_ColTerm(coeff, columns, [contracted]))
            else:
                self._grid_terms.append(_GridTerm(coeff, row_product, grids, columns))

    def round_evals(self) -> list[int]:
        """
        The current round polynomial ``s_t`` at ``0, 1, 2, 3``.

        Raises
        ------
        SumcheckError
            If every round has been bound already.
        """
        t = self.round
        if t >= self.ell:
            raise SumcheckError("all rounds are bound")
        total = [0] * ROUND_EVALS
        if t < self.mu_j:
            half = 1 << (self.mu_j - t - 1)
            for col in self._col_terms:
                vecs = [self._vec(n).values for n in col.columns] + [v.values for v in col.private]
                _accumulate(total, col.coeff, _vec_round(vecs, half))
            for grid_term in self._grid_terms:
                _accumulate(total, grid_term.coeff, self._grid_round(grid_term, half))
        else:
            half = 1 << (self.ell - t - 1)
            for term in self.terms:
                scalar = term.coeff % R
                row_vecs: list[ObjArray] = []
                for name in term.factors:
                    table = self.tables[name]
                    if table.kind == "j":
                        scalar = scalar * self._row_scalars[name] % R
                    else:
                        row_vecs.append(self._vec(name).values)
                if scalar:
                    _accumulate(total, scalar, _vec_round(row_vecs, half))
        return total

    def _vec(self, name: str) -> Vec:
        table = self.tables[name]
        assert isinstance(table, Vec)
        return table

    def _grid_round(self, term: _GridTerm, half: int) -> list[int]:
        grids = [self.tables[n] for n in term.grids]
        cols = [self._vec(n).values for n in term.columns]
        supports = [g.support for g in grids if isinstance(g, Grid)] + [len(c) for c in cols]
        r = min(min(s, half) for s in supports)
        if r == 0:
            return [0] * ROUND_EVALS
        grid_products = _product_evals(
            [_halves_2d(g.values, half, r) for g in grids if isinstance(g, Grid)]
        )
        col_products = (
            _product_evals([_halves_1d(c, half, r) for c in cols]) if cols else [None] * 4
        )
        out = []
        for gp, cp in zip(grid_products, col_products, strict=True):
            if isinstance(gp, int) or isinstance(cp, int):
                out.append(0)
                continue
            per_col = gp.sum(axis=0) if term.rows is None else np.dot(term.rows, gp)
            per_col = np.asarray(per_col % R, dtype=object)
            out.append(int((per_col if cp is None else per_col * cp).sum()) % R)
        return out

    def bind(self, u: int) -> None:
        """
        Bind the current round's variable (``ℓ − round``) to the challenge ``u``.

        Raises
        ------
        SumcheckError
            If every round has been bound already.
        """
        t = self.round
        if t >= self.ell:
            raise SumcheckError("all rounds are bound")
        u %= R
        self.challenges.append(u)
        if t < self.mu_j:
            half = 1 << (self.mu_j - t - 1)
            for table in self.tables.values():
                if isinstance(table, Grid) or (isinstance(table, Vec) and table.kind == "j"):
                    table.bind(u, half)
            for col in self._col_terms:
                for vec in col.private:
                    vec.bind(u, half)
            if t + 1 == self.mu_j:
                self._enter_row_phase()
        else:
            half = 1 << (self.ell - t - 1)
            for table in self.tables.values():
                if isinstance(table, Vec) and table.kind == "i":
                    table.bind(u, half)

    def _enter_row_phase(self) -> None:
        u_j = list(reversed(self.challenges))
        for name, table in list(self.tables.items()):
            if isinstance(table, Vec) and table.kind == "j":
                self._row_scalars[name] = table.value()
                self.tables[name] = Vec("j", [table.value()])
            elif isinstance(table, Grid):
                self.tables[name] = table.to_rows()
            elif isinstance(table, (WeightGrid, PeriodicGrid)):
                self.tables[name] = table.rows_at(u_j)
        self._col_terms = []
        self._grid_terms = []

    def point(self) -> list[int]:
        """The bound point ``u = (u_1..u_ℓ)`` in variable order (the challenges reversed)."""
        return list(reversed(self.challenges))

    def final_value(self, name: str) -> int:
        """
        The table's multilinear extension at the point, once every round is bound.

        Raises
        ------
        SumcheckError
            If rounds remain.
        """
        if self.round != self.ell:
            raise SumcheckError("the sumcheck is not finished")
        if name in self._row_scalars:
            return self._row_scalars[name]
        return self._vec(name).value()


def _accumulate(total: list[int], coeff: int, evals: Sequence[int]) -> None:
    for x in range(ROUND_EVALS):
        total[x] = (total[x] + coeff * evals[x]) % R


RoundMessage = Callable[[int, list[int], int], Sequence[int]]
"""``(round t from 0, the honest s_t(0..3), the verifier's current claim) -> the scalars sent``."""


class RoundAddend(Protocol):
    """
    A polynomial added to every round of the sumcheck outside the engine (docs/proof-system-zk.md
    Z5: the Libra mask ``ρ_L·G``, :class:`~sumkzg.libra.LibraAddend`).

    It must follow the engine's variable order (round ``t`` binds variable ``ℓ + 1 − t``) and be
    a sum over the unbound variables, so that the sent round polynomial stays the round polynomial
    of the summed relation.
    """

    def round_evals(self) -> list[int]:
        """The addend's part of the current round polynomial at ``0, 1, 2, 3``."""
        ...

    def bind(self, u: int) -> None:
        """Bind the current round's variable to ``u``."""
        ...


def prove_rounds(
    prover: SumcheckProver,
    transcript: Transcript,
    *,
    message: RoundMessage | None = None,
    claim: int = 0,
    addends: Sequence[RoundAddend] = (),
) -> list[list[int]]:
    """
    Run every round: send ``s_t(0..3)`` (tag ``0x03``), draw ``u``, bind.

    Parameters
    ----------
    prover, transcript :
        The sumcheck prover and the transcript, positioned before the first round.
    message :
        TESTS ONLY (malicious provers): replaces each round's message by what it returns (reduced
        mod ``R``); it is given the round, the honest evaluations (addends included) and the claim
        the verifier holds.
    claim :
        The claimed sum, the verifier's claim before the first round (tracked for ``message``).
    addends :
        Polynomials added to every round's message (the engine's evaluations plus each addend's);
        each is bound with the same challenge as the engine.

    Returns
    -------
    rounds : `list[list[int]]`
        ``ℓ`` lists of four scalars, as sent; the point is :meth:`SumcheckProver.point`.
    """
    rounds: list[list[int]] = []
    for t in range(prover.ell - prover.round):
        evals = [int(v) for v in prover.round_evals()]
        for addend in addends:
            extra = addend.round_evals()
            evals = [(a + b) % R for a, b in zip(evals, extra, strict=True)]
        if message is not None:
            evals = [int(v) % R for v in message(t, [int(v) for v in evals], claim)]
        transcript.absorb(TAG_SUMCHECK_ROUND, b"".join(scalar_to_bytes(e) for e in evals))
        u = transcript.challenge()
        prover.bind(u)
        for addend in addends:
            addend.bind(u)
        if message is not None:
            claim = lagrange_eval_0123(evals, u)
        rounds.append(evals)
    return rounds


def verify_rounds(
    rounds: Sequence[Sequence[int]], claim: int, transcript: Transcript
) -> tuple[int, list[int]]:
    """
    The verifier's side of the sumcheck: per round check ``s(0) + s(1) = claim``, absorb the four
    scalars, draw ``u`` and set ``claim = s(u)`` (Lagrange on ``{0,1,2,3}``).

    Parameters
    ----------
    rounds :
        ``ℓ`` rounds of four canonical scalars, round ``t`` binding variable ``ℓ + 1 − t``.
    claim :
        The claimed sum.
    transcript :
        The transcript, positioned before the first round.

    Returns
    -------
    claim, point : `tuple[int, list[int]]`
        The final claim and ``u = (u_1..u_ℓ)`` in variable order.

    Raises
    ------
    ProofRejected
        If a round has not four scalars or fails its check.
    """
    challenges: list[int] = []
    for t, evals in enumerate(rounds, start=1):
        if len(evals) != ROUND_EVALS:
            raise ProofRejected(f"sumcheck round {t} has {len(evals)} values, expected 4")
        if (evals[0] + evals[1]) % R != claim % R:
            raise ProofRejected(f"sumcheck round {t}: s(0) + s(1) != claim")
        transcript.absorb(TAG_SUMCHECK_ROUND, b"".join(scalar_to_bytes(e) for e in evals))
        u = transcript.challenge()
        challenges.append(u)
        claim = lagrange_eval_0123(evals, u)
    return claim, list(reversed(challenges))
