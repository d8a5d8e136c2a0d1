"""
Tests for sumkzg.layout: the derived sizes of docs/proof-system.md §3 and the public column vectors,
whose verifier-side MLE evaluations are checked against naive full-domain tables.
"""

from __future__ import annotations

import random

import pytest

from sumkzg.errors import ProofRejected
from sumkzg.field import R, eq_table, inv, mle_eval
from sumkzg.layout import (
    Layout,
    LayoutError,
    LimbLayout,
    c_b_column,
    c_rho_column,
    c_u_column,
    dense_mle,
    eq_at,
    eq_prefix,
    inference_public_evals,
    registration_public_evals,
    sel_column,
    sigma_rows,
    sparse_mle,
    t_alpha_values,
    top_column,
)
from sumkzg.setup import D

# --------------------------------------------------------------------------------------------------
# Sizes


@pytest.mark.parametrize(
    ("m", "n", "m_pad", "n_pad", "k_w", "k_b", "k_hw"),
    [
        # m' = max(2, 2^⌈log₂ m⌉), K_B = ⌈6m'/D⌉ (docs/proof-system-zk.md Z1).
        (1, 1, 2, 2048, 1, 1, 1),
        (2, 1, 2, 2048, 1, 1, 1),
        (3, 3, 4, 1024, 1, 1, 1),
        (1, 64, 2, 2048, 1, 1, 1),
        (64, 1, 64, 64, 1, 1, 1),
        (64, 64, 64, 128, 2, 1, 2),
        (10, 32, 16, 256, 1, 1, 1),
        (256, 256, 256, 512, 18, 1, 18),
        (255, 255, 256, 512, 18, 1, 18),
        (257, 257, 512, 512, 37, 1, 37),
        (100, 300, 128, 512, 10, 1, 10),
        (683, 3, 1024, 16, 2, 2, 2),
        (1000, 3, 1024, 16, 2, 2, 2),
        (2048, 1, 2048, 32, 2, 4, 2),
        (2048, 4095, 2048, 8192, 4096, 4, 4096),
        (1, 4000, 2, 4096, 2, 1, 2),
        (1, 65534, 2, 131072, 33, 1, 33),
    ],
)
def test_layout_sizes(
    m: int, n: int, m_pad: int, n_pad: int, k_w: int, k_b: int, k_hw: int
) -> None:
    layout = Layout.of(m, n)
    assert (layout.m_pad, layout.n_pad) == (m_pad, n_pad)
    assert (layout.k_w, layout.k_b, layout.k_hw) == (k_w, k_b, k_hw)
    assert layout.m_pad == 1 << layout.mu_i and layout.n_pad == 1 << layout.mu_j
    assert layout.ell == layout.mu_i + layout.mu_j >= 12
    assert layout.domain_size >= D
    # The spec's formulas, literally: cpc = D/m' >= 2 columns per chunk, g = cpc − 1 data
    # columns, K_W = ⌈(n+1)/g⌉, n' = max(2^⌈log₂(cpc·K_W)⌉, 16), and n' >= 32 for m' = D/2 (the
    # limb chunks of L = 10 limbs at posL(t) = 2t, Z1).
    cpc = D // m_pad
    assert (layout.cpc, layout.g) == (cpc, cpc - 1) and cpc >= 2
    assert layout.k_w * layout.g >= n + 1 > (layout.k_w - 1) * layout.g
    floor = 32 if m_pad == D // 2 else 16
    assert layout.n_pad == max(1 << (cpc * layout.k_w - 1).bit_length(), floor)
    # The old lower bounds still hold: room for n+2 columns, m'·n' >= D.
    assert layout.n_pad >= n + 2 and layout.domain_size >= D
    assert layout.weight_columns == cpc * layout.k_w <= layout.n_pad
    assert layout.blinding_size == layout.k_w * m_pad
    # K_B = ⌊posB(3)/cpc⌋ + 1, posB(t) = t + ⌊t/g⌋ (Z1: a free column in every chunk).
    assert m_pad >= 2 and layout.k_b == (3 + 3 // layout.g) // cpc + 1


@pytest.mark.parametrize(
    ("m", "k", "k_l"),
    [
        (1, 16, 1),
        (64, 16, 1),
        (256, 20, 1),
        (512, 1, 2),
        (1024, 62, 4),
        (1024, 16, 3),
        (2048, 8, 9),
        (2048, 62, 10),
    ],
)
def test_limb_chunks(m: int, k: int, k_l: int) -> None:
    """``K_L = ⌊posL(L−1)/cpc⌋ + 1``, ``posL(t) = t + ⌊t/g⌋``: a free column in every chunk (Z1)."""
    limb = LimbLayout.of(m, 3, k)
    g, cpc = limb.shape.g, limb.shape.cpc
    assert limb.k_l == k_l == (limb.limbs - 1 + (limb.limbs - 1) // g) // cpc + 1


@pytest.mark.parametrize(
    ("m", "n"),
    [
        (0, 1),
        (1, 0),
        (65535, 1),
        (1, 65535),
        (-1, 4),
        (8192, 8192),
        (4096, 8191),
        (2049, 1),
        (4096, 1),
        (65534, 1),
        (256, 65534),
    ],
)
def test_layout_refuses_out_of_range_shapes(m: int, n: int) -> None:
    with pytest.raises(LayoutError):
        Layout.of(m, n)


def test_layout_largest_accepted() -> None:
    # ℓ = 24 exactly: 2048 × 4095 (cpc = 2, K_W = 4096 chunks of one data column each).
    layout = Layout.of(2048, 4095)
    assert layout.ell == 24
    with pytest.raises(LayoutError, match="ℓ = 25"):
        Layout.of(2048, 4096)
    # m' > D/2: a chunk would hold a single column, with no room for its blinding column.
    assert Layout.of(2048, 1).cpc == 2
    with pytest.raises(LayoutError, match="D/2"):
        Layout.of(2049, 1)


def test_layout_refuses_non_ints() -> None:
    with pytest.raises(LayoutError):
        Layout.of(True, 3)
    with pytest.raises(LayoutError):
        Layout.of(3.0, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("k", "k_rho", "k_u", "limbs", "k_top"),
    [
        (1, 1, 9, 10, 1),
        (8, 1, 8, 9, 8),
        (9, 2, 8, 10, 1),
        (16, 2, 7, 9, 8),
        (31, 4, 6, 10, 7),
        (62, 8, 2, 10, 6),
    ],
)
def test_limb_layout(k: int, k_rho: int, k_u: int, limbs: int, k_top: int) -> None:
    layout = LimbLayout.of(64, 64, k)
    assert (layout.k_rho, layout.k_u, layout.limbs, layout.k_top) == (k_rho, k_u, limbs, k_top)
    assert layout.limbs <= 10
    assert layout.table_size == 256 + (1 << k_top)
    assert layout.k_l == -(-64 * limbs // D)
    # The limbs cover the ranges the relation needs: ρ < 2^k, u < 2^(64−k+8).
    assert 8 * (k_rho - 1) + k_top == k
    assert 8 * k_u >= 64 - k + 8


def test_limb_layout_every_k() -> None:
    for k in range(1, 63):
        layout = LimbLayout.of(3, 3, k)
        assert layout.limbs <= 10 and 1 <= layout.k_top <= 8 and layout.table_size <= 512


@pytest.mark.parametrize("k", [0, 63, -1])
def test_limb_layout_refuses_k(k: int) -> None:
    with pytest.raises(LayoutError):
        LimbLayout.of(3, 3, k)


def test_split_points() -> None:
    layout = Layout.of(10, 32)
    point = list(range(layout.ell))
    u_i, u_j = layout.split_point(point)
    assert u_i == point[: layout.mu_i] and u_j == point[layout.mu_i :]
    lo, hi = layout.split_chunk_point(point)
    assert lo == point[:12] and hi == point[12:]
    with pytest.raises(LayoutError):
        layout.split_point(point[:-1])
    assert layout.flat(3, 2) == 3 + layout.m_pad * 2


# --------------------------------------------------------------------------------------------------
# eq helpers


def test_eq_prefix_and_eq_at() -> None:
    rng = random.Random(1)
    for mu in range(0, 7):
        point = [rng.randrange(R) for _ in range(mu)]
        table = eq_table(point)
        for size in {0, 1, 2, 3, (1 << mu) // 2 + 1, 1 << mu}:
            if size <= 1 << mu:
                assert eq_prefix(point, size) == table[:size]
        for f in range(1 << mu):
            assert eq_at(point, f) == table[f]
    with pytest.raises(LayoutError):
        eq_prefix([1, 2], 5)
    with pytest.raises(LayoutError):
        eq_at([1, 2], 4)


def test_sparse_and_dense_mle() -> None:
    rng = random.Random(2)
    point = [rng.randrange(R) for _ in range(6)]
    values = [rng.randrange(R) for _ in range(37)]
    assert dense_mle(values, point) == mle_eval(values, point)
    entries = [(5, 7), (33, R - 1), (63, 2)]
    full = [0] * 64
    for f, v in entries:
        full[f] = v
    assert sparse_mle(entries, point) == mle_eval(full, point)


# --------------------------------------------------------------------------------------------------
# Public vectors against naive full-domain MLEs


def naive_column_mle(layout: Layout, column: list[int], point: list[int]) -> int:
    """MLE of the domain table ``(i, j) ↦ column[j]`` (column-only vector), over all 2^ℓ entries."""
    table = [0] * layout.domain_size
    for j, v in enumerate(column):
        for i in range(layout.m_pad):
            table[layout.flat(i, j)] = v % R
    return mle_eval(table, point)


def naive_row_mle(layout: Layout, rows: list[int], point: list[int]) -> int:
    table = [0] * layout.domain_size
    for i, v in enumerate(rows):
        for j in range(layout.n_pad):
            table[layout.flat(i, j)] = v % R
    return mle_eval(table, point)


def naive_flat_mle(layout: Layout, flat: list[int], point: list[int]) -> int:
    return mle_eval([v % R for v in flat] + [0] * (layout.domain_size - len(flat)), point)


def at_weight_columns(layout: Layout, values: list[int]) -> list[int]:
    """``values[c]`` at layout column ``c + ⌊c/g⌋`` (docs/proof-system.md §4), zeros between."""
    g = D // layout.m_pad - 1
    out = [0] * (len(values) + len(values) // g + 1)
    for c, v in enumerate(values):
        out[c + c // g] = v
    return out


@pytest.mark.parametrize(
    ("m", "n", "k", "activation"),
    [
        (1, 1, 1, 1),
        (3, 3, 9, 0),
        (5, 2, 16, 1),
        (7, 13, 62, 0),
        (64, 1, 31, 1),
        (64, 200, 16, 1),
        (300, 40, 20, 0),
        (2048, 3, 12, 1),
        (1000, 9, 8, 0),
        (300, 8, 13, 1),
        (600, 4, 13, 0),
    ],
)
def test_inference_public_evals_match_naive(m: int, n: int, k: int, activation: int) -> None:
    rng = random.Random(m * 1000 + n * 10 + k)
    limb = LimbLayout.of(m, n, k)
    shape = limb.shape
    lo = 0 if activation == 1 else -128
    x = [rng.randrange(-128, 128) for _ in range(n)]
    y = [rng.choice([lo, 127, rng.randrange(lo, 128)]) for _ in range(m)]
    alpha = rng.randrange(R)
    tau = [rng.randrange(R) for _ in range(shape.mu_i)]
    tau2 = [rng.randrange(R) for _ in range(shape.ell)]
    point = [rng.randrange(R) for _ in range(shape.ell)]
    lam = rng.randrange(R)
    pub = inference_public_evals(limb, x, y, activation, alpha, tau, tau2, point, lam=lam)

    u_i, u_j = shape.split_point(point)
    limbs = limb.limbs
    assert pub.x == naive_column_mle(shape, at_weight_columns(shape, [*x, 1]), point)
    assert pub.delta0 == naive_column_mle(shape, [1], point)
    # The limb columns sit at posL(t) = t + ⌊t/g⌋ (Z1).
    pos = [t + t // shape.g for t in range(limbs)]
    assert limb.positions() == pos

    def at_limbs(values: list[int]) -> list[int]:
        out = [0] * (pos[-1] + 1)
        for t, v in enumerate(values):
            out[pos[t]] = v
        return out

    c_rho = at_limbs([2 ** (8 * j) for j in range(limb.k_rho)] + [0] * limb.k_u)
    assert pub.c_rho == naive_column_mle(shape, c_rho, point)
    c_u = at_limbs([0] * limb.k_rho + [2 ** (8 * t) for t in range(limb.k_u)])
    assert c_u_column(limb) == c_u
    assert pub.c_u == naive_column_mle(shape, c_u, point)
    assert pub.sel == naive_column_mle(shape, at_limbs([1] * limbs), point)
    top = at_limbs([1 if j == limb.k_rho - 1 else 0 for j in range(limbs)])
    assert pub.top == naive_column_mle(shape, top, point)
    assert pub.y == naive_row_mle(shape, y, point)
    sigma = [(-1 if v == lo else 1 if v == 127 else 0) for v in y]
    sigma += [-1 if activation == 1 else 0] * (shape.m_pad - m)
    assert sigma_rows(shape, y, activation) == sigma
    assert pub.sigma == naive_row_mle(shape, sigma, point)
    # The bytes, then the top limb's 2^{k'} values shifted by λ.
    table = [*range(256), *(lam + t for t in range(limb.table_size - 256))]
    t_alpha = [inv(alpha - v) for v in table]
    assert pub.t_alpha == naive_flat_mle(shape, t_alpha, point)
    assert pub.eq_tau == mle_eval(eq_table(tau), u_i)
    assert pub.eq_tau2 == naive_restricted_eq(shape, tau2, pos, point)
    assert len(u_j) == shape.mu_j
    assert c_rho_column(limb) == c_rho[: pos[limb.k_rho - 1] + 1]
    assert sel_column(limb) == at_limbs([1] * limbs)
    assert top_column(limb) == top[: pos[limb.k_rho - 1] + 1]


@pytest.mark.parametrize(
    ("m", "n"),
    [(1, 1), (3, 3), (6, 17), (64, 1), (2, 64), (64, 200), (300, 40), (600, 5), (2048, 3)],
)
def test_registration_public_evals_match_naive(m: int, n: int) -> None:
    rng = random.Random(m * 100 + n)
    shape = Layout.of(m, n)
    alpha = rng.randrange(R)
    tau = [rng.randrange(R) for _ in range(shape.mu_i)]
    tau2 = [rng.randrange(R) for _ in range(shape.ell)]
    point = [rng.randrange(R) for _ in range(shape.ell)]
    pub = registration_public_evals(shape, alpha, tau, tau2, point)
    assert pub.sel_w == naive_column_mle(shape, at_weight_columns(shape, [1] * n + [0]), point)
    # The bias limbs sit at posB(t) = t + ⌊t/g⌋ (Z1).
    pos_b = [t + t // shape.g for t in range(4)]
    assert shape.bias_positions() == pos_b
    sel_b, c_b = [0] * (pos_b[-1] + 1), [0] * (pos_b[-1] + 1)
    for t, p in enumerate(pos_b):
        sel_b[p], c_b[p] = 1, 2 ** (8 * t)
    assert pub.sel_b == naive_column_mle(shape, sel_b, point)
    assert pub.delta_n == naive_column_mle(shape, at_weight_columns(shape, [0] * n + [1]), point)
    assert pub.c_b == naive_column_mle(shape, c_b, point)
    assert c_b_column(shape) == c_b
    assert pub.t_alpha == naive_flat_mle(shape, [inv(alpha - f) for f in range(256)], point)
    assert pub.eq_tau == mle_eval(eq_table(tau), point[: shape.mu_i])
    positions = [int(p) for p in shape.positions()]
    assert pub.eq_tau2_w == naive_restricted_eq(shape, tau2, positions[:-1], point)
    assert pub.eq_tau2_b == naive_restricted_eq(shape, tau2, pos_b, point)


def naive_restricted_eq(
    shape: Layout, tau2: list[int], columns: range | list[int], point: list[int]
) -> int:
    """
    The MLE at ``point`` of ``eq(τ″, (i, j))·[j ∈ columns]`` over the whole domain: the factor of
    a zero-check restricted to the lookup columns (docs/proof-system-zk.md Z3).
    """
    table = eq_table(tau2)
    keep = set(columns)
    masked = [v if f // shape.m_pad in keep else 0 for f, v in enumerate(table)]
    return mle_eval(masked, point)


def test_t_alpha_refuses_alpha_in_table() -> None:
    with pytest.raises(ProofRejected):
        t_alpha_values(17, 256)
    assert t_alpha_values(256, 256)[0] == inv(256)
