"""
Tests for sumkzg.sumcheck: the structured prover engine against brute force over the whole domain,
and the verifier's round checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from sumkzg.errors import ProofRejected
from sumkzg.field import R, lagrange_eval_0123, mle_eval
from sumkzg.sumcheck import (
    Grid,
    SumcheckError,
    SumcheckProver,
    Table,
    Term,
    Vec,
    WeightGrid,
    prove_rounds,
    verify_rounds,
)
from sumkzg.transcript import TAG_SUMCHECK_ROUND, Transcript


def obj(rows: list[list[int]]) -> np.ndarray:
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    out[:] = rows
    return out


class Relation:
    """Random tables of every kind, with their dense domain tables for brute force."""

    def __init__(self, rng: random.Random, mu_i: int, mu_j: int) -> None:
        self.mu_i, self.mu_j = mu_i, mu_j
        m, n = 1 << mu_i, 1 << mu_j
        self.m, self.n = m, n

        def rnd() -> int:
            return rng.randrange(R)

        grid_a = obj([[rnd() for _ in range(min(5, n))] for _ in range(m)])
        grid_b = obj([[rnd() for _ in range(min(3, n))] for _ in range(m)])
        grid_full = obj([[rnd() for _ in range(n)] for _ in range(m)])
        int_rows = max(1, m - 1)
        int_cols = n - 3 if n >= 4 else max(1, n - 1)
        ints = np.array(
            [[rng.randrange(-(2**31), 2**31) for _ in range(int_cols)] for _ in range(int_rows)],
            dtype=np.int64,
        )
        # The blinding-like full-field column, one past the integer block when it fits.
        blind_col = int_cols + 1 if int_cols + 1 < n else None
        blind = [rnd() for _ in range(m)]
        row = [rnd() for _ in range(m)]
        row_short = [rnd() for _ in range(max(1, m // 2))]
        col = [rnd() for _ in range(min(7, n))]
        col_full = [rnd() for _ in range(n)]

        self.make: dict[str, Callable[[], Table]] = {
            "A": lambda: Grid(grid_a.copy()),
            "B": lambda: Grid(grid_b.copy()),
            "F": lambda: Grid(grid_full.copy()),
            "W": lambda: WeightGrid(ints, {} if blind_col is None else {blind_col: blind}, m),
            "a": lambda: Vec("i", row),
            "a2": lambda: Vec("i", row_short),
            "b": lambda: Vec("j", col),
            "c": lambda: Vec("j", col_full),
        }
        dense: dict[str, list[list[int]]] = {}
        dense["A"] = [
            [int(grid_a[i, j]) if j < grid_a.shape[1] else 0 for j in range(n)] for i in range(m)
        ]
        dense["B"] = [
            [int(grid_b[i, j]) if j < grid_b.shape[1] else 0 for j in range(n)] for i in range(m)
        ]
        dense["F"] = [[int(v) for v in r] for r in grid_full]
        w = [[0] * n for _ in range(m)]
        for i in range(int_rows):
            for j in range(int_cols):
                w[i][j] = int(ints[i, j]) % R
        if blind_col is not None:
            for i in range(m):
                w[i][blind_col] = blind[i]
        dense["W"] = w
        dense["a"] = [[row[i]] * n for i in range(m)]
        dense["a2"] = [[row_short[i] if i < len(row_short) else 0] * n for i in range(m)]
        dense["b"] = [[col[j] if j < len(col) else 0 for j in range(n)] for _ in range(m)]
        dense["c"] = [col_full[:] for _ in range(m)]
        # Flat tables, f = i + m·j.
        self.flat = {name: [t[f % m][f // m] for f in range(m * n)] for name, t in dense.items()}

    def tables(self) -> dict[str, Table]:
        return {name: make() for name, make in self.make.items()}

    def brute_sum(self, terms: list[Term]) -> int:
        total = 0
        for f in range(self.m * self.n):
            for term in terms:
                p = term.coeff
                for name in term.factors:
                    p = p * self.flat[name][f] % R
                total += p
        return total % R

    def brute_eval(self, terms: list[Term], point: list[int]) -> int:
        evals = {name: mle_eval(flat, point) for name, flat in self.flat.items()}
        total = 0
        for term in terms:
            p = term.coeff
            for name in term.factors:
                p = p * evals[name] % R
            total += p
        return total % R


TERMS = [
    Term(3, ("a", "W", "b")),
    Term(5, ("A", "B", "c")),
    Term(7, ("a", "A", "B")),
    Term(17, ("a", "a2", "B", "c")),
    Term(2, ("b",)),
    Term(R - 11, ("a", "A", "b", "c")),
    Term(1, ()),
    Term(13, ("W", "a", "a2")),
    Term(19, ("F", "A", "c")),
    Term(23, ("F", "F", "a", "b")),
    Term(29, ("a",)),
    Term(31, ("F",)),
]


@pytest.mark.parametrize(("mu_i", "mu_j"), [(0, 4), (1, 3), (3, 4), (2, 5), (4, 1), (3, 0)])
def test_engine_matches_brute_force(mu_i: int, mu_j: int) -> None:
    rng = random.Random(mu_i * 10 + mu_j)
    rel = Relation(rng, mu_i, mu_j)
    total = rel.brute_sum(TERMS)
    prover = SumcheckProver(mu_i, mu_j, rel.tables(), TERMS)
    rounds = prove_rounds(prover, Transcript(b"test"))
    assert len(rounds) == mu_i + mu_j and all(len(r) == 4 for r in rounds)
    claim, point = verify_rounds(rounds, total, Transcript(b"test"))
    assert point == prover.point()
    assert claim == rel.brute_eval(TERMS, point)
    for name, flat in rel.flat.items():
        assert prover.final_value(name) == mle_eval(flat, point), name


def test_round_polynomials_are_the_true_partial_sums() -> None:
    # Round 1 binds the top variable: s(X) = Σ over the rest with variable ℓ set to X.
    rng = random.Random(5)
    rel = Relation(rng, 2, 3)
    prover = SumcheckProver(2, 3, rel.tables(), TERMS)
    evals = prover.round_evals()
    ell, half = 5, 16
    for x in range(4):
        expected = 0
        for f in range(half):
            for term in TERMS:
                p = term.coeff
                for name in term.factors:
                    t = rel.flat[name]
                    p = p * ((1 - x) * t[f] + x * t[f + half]) % R
                expected += p
        assert evals[x] == expected % R
    assert ell == prover.ell


def test_engine_rejects_bad_relations() -> None:
    rel = Relation(random.Random(9), 2, 3)
    with pytest.raises(SumcheckError, match="degree"):
        SumcheckProver(2, 3, rel.tables(), [Term(1, ("a", "a2", "A", "B"))])
    with pytest.raises(SumcheckError, match="degree"):
        SumcheckProver(2, 3, rel.tables(), [Term(1, ("b", "c", "A", "B"))])
    with pytest.raises(SumcheckError, match="weight grid"):
        SumcheckProver(2, 3, rel.tables(), [Term(1, ("W", "A"))])
    with pytest.raises(SumcheckError, match="unknown"):
        SumcheckProver(2, 3, rel.tables(), [Term(1, ("nope",))])
    with pytest.raises(SumcheckError):
        SumcheckProver(1, 3, rel.tables(), [Term(1, ("a",))])  # 4 rows for 2^1
    prover = SumcheckProver(2, 3, rel.tables(), [Term(1, ("a",))])
    with pytest.raises(SumcheckError):
        prover.final_value("a")
    prove_rounds(prover, Transcript(b"t"))
    with pytest.raises(SumcheckError):
        prover.round_evals()
    with pytest.raises(SumcheckError):
        prover.bind(1)


def test_verify_rounds_rejects() -> None:
    rel = Relation(random.Random(3), 2, 4)
    total = rel.brute_sum(TERMS)
    rounds = prove_rounds(SumcheckProver(2, 4, rel.tables(), TERMS), Transcript(b"x"))
    with pytest.raises(ProofRejected, match="round 1"):
        verify_rounds(rounds, total + 1, Transcript(b"x"))
    for t in range(len(rounds)):
        for x in range(4):
            bad = [list(r) for r in rounds]
            bad[t][x] = (bad[t][x] + 1) % R
            try:
                claim, point = verify_rounds(bad, total, Transcript(b"x"))
            except ProofRejected:
                continue
            # Only the last round's s(2), s(3) can pass the round checks; the final claim moves.
            assert t == len(rounds) - 1 and x >= 2
            assert claim != rel.brute_eval(TERMS, point)
    with pytest.raises(ProofRejected, match="4"):
        verify_rounds([rounds[0][:3]], total, Transcript(b"x"))


def test_verify_rounds_follows_the_transcript() -> None:
    # Round t absorbs its four scalars (tag 0x03) and draws u; the next claim is s_t(u).
    first = [1, R - 1, 5, 7]
    ref = Transcript(b"y")
    ref.absorb(TAG_SUMCHECK_ROUND, b"".join(v.to_bytes(32, "big") for v in first))
    u1 = ref.challenge()
    c1 = lagrange_eval_0123(first, u1)
    second = [c1, 0, 9, 11]
    ref.absorb(TAG_SUMCHECK_ROUND, b"".join(v.to_bytes(32, "big") for v in second))
    u2 = ref.challenge()
    claim, point = verify_rounds([first, second], 0, Transcript(b"y"))
    assert point == [u2, u1]
    assert claim == lagrange_eval_0123(second, u2)
    with pytest.raises(ProofRejected, match="round 2"):
        verify_rounds([first, [c1, 1, 9, 11]], 0, Transcript(b"y"))


@pytest.mark.parametrize(("mu_i", "mu_j", "g"), [(2, 3, 1), (3, 4, 3), (1, 5, 7), (0, 4, 15)])
def test_weight_grid_with_interleaved_blinding_columns(mu_i: int, mu_j: int, g: int) -> None:
    # W′'s hiding layout (docs/proof-system.md §4): integer column c at c + ⌊c/g⌋, a full-field
    # blinding column at every (g+1)-th column g, 2g+1, ... up to the last data column's chunk.
    rng = random.Random(mu_i * 100 + mu_j * 10 + g)
    m, n = 1 << mu_i, 1 << mu_j
    cpc = g + 1
    chunks = n // cpc - (1 if n >= 2 * cpc else 0)  # leave some zero columns at the top
    data = chunks * g - (1 if g > 1 else 0)  # the last chunk partly filled
    positions = [c + c // g for c in range(data)]
    blind_cols = [cpc * k + g for k in range(chunks)]
    int_rows = max(1, m - 1)
    ints = np.array(
        [[rng.randrange(-(2**31), 2**31) for _ in range(data)] for _ in range(int_rows)],
        dtype=np.int64,
    )
    blind = {c: [rng.randrange(R) for _ in range(m)] for c in blind_cols}
    dense = [[0] * n for _ in range(m)]
    for i in range(int_rows):
        for t, j in enumerate(positions):
            dense[i][j] = int(ints[i, t]) % R
    for c, col in blind.items():
        for i in range(m):
            dense[i][c] = col[i]
    grid = WeightGrid(ints, blind, m, positions)
    assert grid.columns == max(positions[-1], blind_cols[-1]) + 1
    # The contraction over the rows and the rows at a column point, against the dense table.
    weights = np.array([rng.randrange(R) for _ in range(m)], dtype=object)
    contracted = grid.contract(weights)
    for j in range(grid.columns):
        assert contracted[j] == sum(int(weights[i]) * dense[i][j] for i in range(m)) % R
    u_j = [rng.randrange(R) for _ in range(mu_j)]
    rows = grid.rows_at(u_j).values
    for i in range(m):
        assert rows[i] == mle_eval(dense[i], u_j)
    # And a whole sumcheck with it as the linear factor.
    row = [rng.randrange(R) for _ in range(m)]
    col = [rng.randrange(R) for _ in range(n)]
    terms = [Term(3, ("a", "W", "c")), Term(5, ("W",))]
    flat_w = [dense[f % m][f // m] for f in range(m * n)]
    flat_a = [row[f % m] for f in range(m * n)]
    flat_c = [col[f // m] for f in range(m * n)]
    total = sum(3 * a * w * c + 5 * w for a, w, c in zip(flat_a, flat_w, flat_c, strict=True)) % R
    tables: dict[str, Table] = {"W": grid, "a": Vec("i", row), "c": Vec("j", col)}
    prover = SumcheckProver(mu_i, mu_j, tables, terms)
    rounds = prove_rounds(prover, Transcript(b"w"))
    claim, point = verify_rounds(rounds, total, Transcript(b"w"))
    w_u = mle_eval(flat_w, point)
    assert prover.final_value("W") == w_u
    assert claim == (3 * mle_eval(flat_a, point) * w_u * mle_eval(flat_c, point) + 5 * w_u) % R


def test_weight_grid_refuses_bad_positions() -> None:
    ints = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(SumcheckError, match="positions"):
        WeightGrid(ints, {}, 2, [0, 2])
    with pytest.raises(SumcheckError, match="positions"):
        WeightGrid(ints, {}, 2, [0, 2, 2])
    with pytest.raises(SumcheckError, match="extra"):
        WeightGrid(ints, {2: [1, 2]}, 2, [0, 2, 4])
    with pytest.raises(SumcheckError, match="extra"):
        WeightGrid(ints, {1: [1, 2, 3]}, 2, [0, 2, 4])
    assert WeightGrid(ints, {1: [1, 2], 3: [3]}, 2, [0, 2, 4]).columns == 5
