"""
Tests for sumkzg.libra (docs/proof-system-zk.md Z5): the subgroup, the masks, the Libra round
addend against brute force, the sum proof (completeness and every rejection), and the masks'
randomness (CSPRNG by default, fresh and nonzero); and for the v2 skeleton of sumkzg.batch that
carries them (Z6–Z8, Z10): the masks, the round challenges, the batched opening with the Gemini
mask, the weight mask and the Libra sum proof.
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from py_arkworks_bls12381 import G1Point

from sumkzg import libra
from sumkzg.batch import (
    Flat,
    WeightMask,
    ZkMasks,
    ZkOpeningProof,
    open_batched,
    round1_challenges,
    round2_challenges,
    verify_batched,
)
from sumkzg.curve import commit, encode_g1, g1_generator, g1_mul
from sumkzg.errors import EncodingError, ProofRejected, WitnessError
from sumkzg.field import R, lagrange_eval_0123, mle_eval
from sumkzg.hyperkzg import open_multilinear, verify_opening
from sumkzg.layout import Layout
from sumkzg.libra import (
    MAX_VARS,
    OMEGA,
    LibraAddend,
    LibraMasks,
    N,
    check_sum_identity,
    evaluate_on_h,
    grand_sum_hat,
    interpolate_on_h,
    poly_eval,
    poly_mul,
    quotient_hat,
    weight_values,
)
from sumkzg.setup import LOG_D, D, Setup, load_setup
from sumkzg.sumcheck import (
    Grid,
    SumcheckProver,
    Table,
    Term,
    Vec,
    obj_array,
    prove_rounds,
    verify_rounds,
)
from sumkzg.transcript import TAG_ROUND1, TAG_ROUND2, Transcript


def random_point(rng: random.Random, ell: int) -> list[int]:
    return [rng.randrange(R) for _ in range(ell)]


class SumProof:
    """An honest Libra sum proof at a random point, evaluated at a random β."""

    def __init__(self, ell: int, seed: int) -> None:
        rng = random.Random(seed)
        self.ell = ell
        self.masks = LibraMasks.draw(ell, rng)
        self.point = random_point(rng, ell)
        self.s_g = self.masks.evaluate(self.point)
        self.kappa = rng.randrange(R)
        self.lib_hat = self.masks.lib_hat()
        self.a_hat = grand_sum_hat(self.masks, self.point)
        self.q_hat = quotient_hat(self.masks, self.a_hat, self.point, self.s_g, self.kappa)
        self.beta = rng.randrange(R)
        self.values = (
            poly_eval(self.lib_hat, self.beta),
            poly_eval(self.a_hat, self.beta),
            poly_eval(self.q_hat, self.beta),
            poly_eval(self.a_hat, OMEGA * self.beta % R),
        )

    def check(
        self,
        *,
        s_g: int | None = None,
        kappa: int | None = None,
        beta: int | None = None,
        values: Sequence[int] | None = None,
        point: Sequence[int] | None = None,
        ell: int | None = None,
    ) -> None:
        lib_b, a_b, q_b, a_wb = values if values is not None else self.values
        check_sum_identity(
            ell if ell is not None else self.ell,
            point if point is not None else self.point,
            s_g if s_g is not None else self.s_g,
            kappa if kappa is not None else self.kappa,
            beta if beta is not None else self.beta,
            lib_b,
            a_b,
            q_b,
            a_wb,
        )


# --------------------------------------------------------------------------------------------------
# The subgroup and the polynomial helpers


def test_omega_has_order_exactly_n() -> None:
    assert pow(7, (R - 1) // N, R) == OMEGA
    assert pow(OMEGA, N, R) == 1
    orders = [k for k in range(1, N + 1) if pow(OMEGA, k, R) == 1]
    assert orders == [N]
    assert len(set(libra.H_ELEMENTS)) == N
    assert libra.OMEGA_LAST * OMEGA % R == 1
    assert MAX_VARS == 32


def test_interpolation_round_trip() -> None:
    rng = random.Random(1)
    values = [rng.randrange(R) for _ in range(N)]
    coeffs = interpolate_on_h(values)
    assert len(coeffs) == N
    assert evaluate_on_h(coeffs) == values
    assert [poly_eval(coeffs, h) for h in libra.H_ELEMENTS[:5]] == values[:5]
    # Evaluation on H reduces mod X^N − 1.
    assert evaluate_on_h([*coeffs, 0, 0, 7]) == [
        (v + 7 * pow(h, N + 2, R)) % R for v, h in zip(values, libra.H_ELEMENTS, strict=True)
    ]
    with pytest.raises(ValueError):
        interpolate_on_h(values[:-1])
    a, b = values[:7], values[7:20]
    x = rng.randrange(R)
    assert poly_eval(poly_mul(a, b), x) == poly_eval(a, x) * poly_eval(b, x) % R
    assert poly_mul([], b) == []


def test_lib_hat_has_the_mask_values_on_h() -> None:
    masks = LibraMasks.draw(5, random.Random(2))
    lib_hat = masks.lib_hat()
    assert len(lib_hat) == N + 2
    values = evaluate_on_h(lib_hat)
    assert values == masks.lib_values()
    assert values[:20] == [c for row in masks.coeffs for c in row]
    assert values[20:] == [0] * (N - 20)
    # Off H, Lib̂ = Lib + Z_H·(b₀ + b₁X).
    b0, b1 = masks.lib_blind
    x = 12345
    lib = interpolate_on_h(values)
    assert poly_eval(lib_hat, x) == (poly_eval(lib, x) + (pow(x, N, R) - 1) * (b0 + b1 * x)) % R


def test_weight_values() -> None:
    point = [3, 5]
    assert weight_values(point)[:8] == [1, 3, 9, 27, 1, 5, 25, 125]
    assert weight_values(point)[8:] == [0] * (N - 8)
    with pytest.raises(ValueError):
        weight_values([])
    with pytest.raises(ValueError):
        weight_values([1] * (MAX_VARS + 1))


def test_mask_validation() -> None:
    row = (1, 2, 3, 4)
    assert LibraMasks((row,), (5, 6)).ell == 1
    with pytest.raises(ValueError):
        LibraMasks((), (5, 6))
    with pytest.raises(ValueError):
        LibraMasks((row,) * (MAX_VARS + 1), (5, 6))
    with pytest.raises(ValueError):
        LibraMasks(((1, 2, 3),), (5, 6))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LibraMasks((row,), (5,))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LibraMasks((row,), (5, R))
    with pytest.raises(ValueError):
        LibraMasks((row,), (5, 6), (1, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LibraMasks.draw(0)
    with pytest.raises(ValueError):
        LibraMasks.draw(MAX_VARS + 1)
    with pytest.raises(ValueError):
        LibraMasks((row,), (5, 6)).evaluate([1, 2])


# --------------------------------------------------------------------------------------------------
# Γ, G(u) and the round addend against brute force


def brute_g(masks: LibraMasks, x: Sequence[int]) -> int:
    """``G(x) = Σ_v Σ_e a_{v,e}·x_v^e`` straight from the coefficients."""
    return (
        sum(
            a * pow(xv, e, R)
            for row, xv in zip(masks.coeffs, x, strict=True)
            for e, a in enumerate(row)
        )
        % R
    )


@pytest.mark.parametrize("ell", [1, 2, 4, 6])
def test_total_sum_is_the_hypercube_sum(ell: int) -> None:
    masks = LibraMasks.draw(ell, random.Random(ell))
    cube = sum(brute_g(masks, x) for x in itertools.product((0, 1), repeat=ell)) % R
    assert masks.total_sum() == cube
    point = random_point(random.Random(ell + 100), ell)
    assert masks.evaluate(point) == brute_g(masks, point)
    # G(u) is the sum over H of Lib·w.
    inner = sum(a * b for a, b in zip(masks.lib_values(), weight_values(point), strict=True))
    assert masks.evaluate(point) == inner % R


@pytest.mark.parametrize("ell", [1, 2, 4])
def test_round_addend_matches_brute_force(ell: int) -> None:
    rng = random.Random(40 + ell)
    masks = LibraMasks.draw(ell, rng)
    rho = rng.randrange(1, R)
    addend = LibraAddend(masks, rho)
    point = random_point(rng, ell)  # u_1..u_ℓ; round t binds u_{ℓ+1−t}
    claim = rho * masks.total_sum() % R
    for t in range(1, ell + 1):
        v = ell + 1 - t
        evals = addend.round_evals()
        # Σ over x_1..x_{v−1} ∈ {0,1} of ρ·G(x_1..x_{v−1}, X, u_{v+1}..u_ℓ), for X = 0..3.
        expected = [
            rho
            * sum(
                brute_g(masks, [*low, big_x, *point[v:]])
                for low in itertools.product((0, 1), repeat=v - 1)
            )
            % R
            for big_x in range(4)
        ]
        assert evals == expected, f"round {t}"
        assert (evals[0] + evals[1]) % R == claim
        addend.bind(point[v - 1])
        claim = lagrange_eval_0123(evals, point[v - 1])
    assert claim == rho * masks.evaluate(point) % R
    assert addend.challenges == list(reversed(point))
    with pytest.raises(ValueError):
        addend.round_evals()
    with pytest.raises(ValueError):
        addend.bind(1)


def test_round_addend_with_rho_zero_is_zero() -> None:
    addend = LibraAddend(LibraMasks.draw(3, random.Random(5)), 0)
    assert addend.round_evals() == [0, 0, 0, 0]


@pytest.mark.parametrize(("mu_i", "mu_j"), [(2, 3), (0, 4), (3, 0)])
def test_prove_rounds_with_the_libra_addend(mu_i: int, mu_j: int) -> None:
    # F = Σ grid·row over the domain; the sumcheck of F + ρ_L·G runs from F's sum + ρ_L·Γ and ends
    # at F(u) + ρ_L·G(u) (docs/proof-system-zk.md Z5).
    rng = random.Random(mu_i * 10 + mu_j)
    ell = mu_i + mu_j
    m, n = 1 << mu_i, 1 << mu_j
    grid = np.empty((m, n), dtype=object)
    grid[:, :] = [[rng.randrange(R) for _ in range(n)] for _ in range(m)]
    row = [rng.randrange(R) for _ in range(m)]
    tables: dict[str, Table] = {"g": Grid(grid), "r": Vec("i", row)}
    prover = SumcheckProver(mu_i, mu_j, tables, [Term(1, ("g", "r"))])
    total = sum(int(grid[i, j]) * row[i] for i in range(m) for j in range(n)) % R
    masks = LibraMasks.draw(ell, rng)
    rho = rng.randrange(1, R)
    claim = (total + rho * masks.total_sum()) % R
    addend = LibraAddend(masks, rho)
    rounds = prove_rounds(prover, Transcript(b"addend"), claim=claim, addends=[addend])
    final, point = verify_rounds(rounds, claim, Transcript(b"addend"))
    assert point == prover.point()
    assert addend.challenges == prover.challenges
    flat = [int(grid[f % m, f // m]) for f in range(m * n)]  # f = i + m'·j
    f_at_u = mle_eval(flat, point) * mle_eval(row, point[:mu_i]) % R
    assert final == (f_at_u + rho * masks.evaluate(point)) % R
    # Without the addend the same claim fails round 1.
    bare = SumcheckProver(mu_i, mu_j, {"g": Grid(grid), "r": Vec("i", row)}, [Term(1, ("g", "r"))])
    with pytest.raises(ProofRejected):
        verify_rounds(prove_rounds(bare, Transcript(b"addend")), claim, Transcript(b"addend"))


# --------------------------------------------------------------------------------------------------
# The sum proof


def naive_t(proof: SumProof) -> list[int]:
    """``T`` by schoolbook products with explicit ``L_0``, ``L_{N−1}`` (spec Z5)."""
    inv_n = pow(N, -1, R)
    l_first = [inv_n] * N
    l_last = [pow(OMEGA, i, R) * inv_n % R for i in range(N)]
    w = interpolate_on_h(weight_values(proof.point))
    lib_w = poly_mul(proof.lib_hat, w)
    size = len(lib_w)
    a = proof.a_hat + [0] * (size - len(proof.a_hat))
    shifted = [c * pow(OMEGA, i, R) % R for i, c in enumerate(a)]
    diff = [(s - c - lw) % R for s, c, lw in zip(shifted, a, lib_w, strict=True)]
    middle = poly_mul([(-libra.OMEGA_LAST) % R, 1], diff)
    last = [(c + lw) % R for c, lw in zip(a, lib_w, strict=True)]
    last[0] = (last[0] - proof.s_g) % R
    terms = [
        poly_mul(l_first, proof.a_hat),
        [proof.kappa * c % R for c in middle],
        [proof.kappa * proof.kappa % R * c % R for c in poly_mul(l_last, last)],
    ]
    out = [0] * max(len(t) for t in terms)
    for term in terms:
        for i, c in enumerate(term):
            out[i] = (out[i] + c) % R
    return out


@pytest.mark.parametrize("ell", [12, 17, 24])
def test_sum_proof_completeness(ell: int) -> None:
    proof = SumProof(ell, seed=ell)
    assert len(proof.lib_hat) == N + 2
    assert len(proof.a_hat) == N + 3
    assert len(proof.q_hat) == 2 * N
    proof.check()
    # A has A(1) = 0 and steps Lib·w on H; Â = A on H.
    on_h = evaluate_on_h(proof.a_hat)
    lib, w = proof.masks.lib_values(), weight_values(proof.point)
    assert on_h[0] == 0
    assert all(on_h[k + 1] == (on_h[k] + lib[k] * w[k]) % R for k in range(N - 1))
    assert (on_h[N - 1] + lib[N - 1] * w[N - 1]) % R == proof.s_g
    # Q̂·Z_H is T exactly (against a schoolbook T).
    t = naive_t(proof)
    z_q = [0] * (3 * N)
    for i, c in enumerate(proof.q_hat):
        z_q[i] = (z_q[i] - c) % R
        z_q[i + N] = (z_q[i + N] + c) % R
    assert t + [0] * (len(z_q) - len(t)) == z_q


def test_sum_proof_for_every_variable_count() -> None:
    for ell in (1, 2, 3, 31, MAX_VARS):
        SumProof(ell, seed=1000 + ell).check()


@pytest.fixture(scope="module")
def sum_proof() -> SumProof:
    return SumProof(17, seed=99)


def rejected(proof: SumProof, **changes: object) -> None:
    with pytest.raises(ProofRejected):
        proof.check(**changes)  # type: ignore[arg-type]


def test_wrong_s_g_is_rejected(sum_proof: SumProof) -> None:
    rejected(sum_proof, s_g=(sum_proof.s_g + 1) % R)
    rejected(sum_proof, s_g=(sum_proof.s_g - 1) % R)
    rejected(sum_proof, s_g=0)


def test_every_tampered_value_is_rejected(sum_proof: SumProof) -> None:
    for j in range(4):
        for change in (1, R - 1):
            values = list(sum_proof.values)
            values[j] = (values[j] + change) % R
            rejected(sum_proof, values=values)
    for j, k in itertools.combinations(range(4), 2):
        values = list(sum_proof.values)
        values[j], values[k] = values[k], values[j]
        rejected(sum_proof, values=values)


def test_wrong_kappa_beta_or_point_is_rejected(sum_proof: SumProof) -> None:
    rejected(sum_proof, kappa=(sum_proof.kappa + 1) % R)
    rejected(sum_proof, kappa=0)
    rejected(sum_proof, beta=(sum_proof.beta + 1) % R)
    point = list(sum_proof.point)
    point[3] = (point[3] + 1) % R
    rejected(sum_proof, point=point)
    rejected(sum_proof, point=sum_proof.point[:-1])
    rejected(sum_proof, ell=16)
    rejected(sum_proof, point=[0] * 33, ell=33)


@pytest.mark.parametrize("k", [0, 1, 3, 64, 127])
def test_beta_in_h_is_rejected(sum_proof: SumProof, k: int) -> None:
    beta = pow(OMEGA, k, R)
    with pytest.raises(ProofRejected, match=r"β\^N = 1"):
        sum_proof.check(beta=beta, values=(0, 0, 0, 0))


def test_prover_refuses_a_false_sum(sum_proof: SumProof) -> None:
    masks, point = sum_proof.masks, sum_proof.point
    for s_g in ((sum_proof.s_g + 1) % R, (sum_proof.s_g - 1) % R):
        with pytest.raises(WitnessError):
            quotient_hat(masks, sum_proof.a_hat, point, s_g, sum_proof.kappa)
    bad_a = list(sum_proof.a_hat)
    bad_a[5] = (bad_a[5] + 1) % R
    with pytest.raises(WitnessError):
        quotient_hat(masks, bad_a, point, sum_proof.s_g, sum_proof.kappa)
    with pytest.raises(ValueError):
        quotient_hat(masks, [*sum_proof.a_hat, 1], point, sum_proof.s_g, sum_proof.kappa)


def test_a_cheating_quotient_fails_the_identity(sum_proof: SumProof) -> None:
    # Claim s_G + 1 and commit T′ div Z_H (remainder dropped): the identity at β catches it.
    proof = SumProof(17, seed=99)
    proof.s_g = (proof.s_g + 1) % R
    t = naive_t(proof)
    quotient = [0] * (len(t) - N)
    work = list(t)
    for i in range(len(work) - 1, N - 1, -1):
        quotient[i - N] = work[i]
        work[i - N] = (work[i - N] + work[i]) % R
    assert any(work[:N])  # not divisible
    values = (proof.values[0], proof.values[1], poly_eval(quotient, proof.beta), proof.values[3])
    rejected(proof, values=values)


# --------------------------------------------------------------------------------------------------
# The sum proof through the four-point opening (real setup)


@pytest.fixture(scope="module")
def real_setup() -> Setup:
    return load_setup()


def test_sum_proof_through_the_opening(real_setup: Setup) -> None:
    proof = SumProof(14, seed=7)
    rng = random.Random(8)
    coeffs = [rng.randrange(R) for _ in range(4096)]
    point = random_point(rng, LOG_D)
    c_lib, c_a, c_q = (commit(real_setup, p) for p in (proof.lib_hat, proof.a_hat, proof.q_hat))
    tr = Transcript(b"libra test")
    opening = open_multilinear(
        real_setup, coeffs, point, tr, lib_hat=proof.lib_hat, a_hat=proof.a_hat, q_hat=proof.q_hat
    )
    beta = verify_opening(
        real_setup,
        commit(real_setup, coeffs),
        point,
        mle_eval(coeffs, point),
        opening,
        Transcript(b"libra test"),
        c_lib=c_lib,
        c_a=c_a,
        c_q=c_q,
    )
    proof.check(beta=beta, values=opening.libra_evals)
    with pytest.raises(ProofRejected):
        proof.check(beta=beta, values=opening.libra_evals, s_g=(proof.s_g + 1) % R)


# --------------------------------------------------------------------------------------------------
# Randomness of the masks


def all_values(masks: LibraMasks) -> list[int]:
    assert masks.sum_blind is not None
    return [c for row in masks.coeffs for c in row] + [*masks.lib_blind, *masks.sum_blind]


def test_masks_are_nonzero_and_fresh() -> None:
    first, second = LibraMasks.draw(24), LibraMasks.draw(24)
    a, b = all_values(first), all_values(second)
    assert len(a) == 4 * 24 + 5
    assert all(0 < v < R for v in a + b)
    assert not set(a) & set(b)
    assert len(set(a)) == len(a)
    # Â's blinders are used: two grand sums of the same mask at the same point differ off H only.
    point = random_point(random.Random(3), 24)
    fresh_a = grand_sum_hat(LibraMasks(first.coeffs, first.lib_blind), point)
    assert evaluate_on_h(fresh_a) == evaluate_on_h(grand_sum_hat(first, point))
    assert fresh_a != grand_sum_hat(first, point)


def test_a_tests_only_rng_is_deterministic() -> None:
    assert LibraMasks.draw(5, random.Random(9)) == LibraMasks.draw(5, random.Random(9))
    assert LibraMasks.draw(5, random.Random(9)) != LibraMasks.draw(5, random.Random(10))
    masks = LibraMasks(LibraMasks.draw(2, random.Random(1)).coeffs, (1, 2))
    point = [5, 6]
    assert grand_sum_hat(masks, point, random.Random(4)) == grand_sum_hat(
        masks, point, random.Random(4)
    )


def test_masks_come_from_secrets_not_random(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> int:
        raise AssertionError("the random module was used for a mask")

    for name in ("random", "randrange", "randint", "getrandbits", "choice", "randbytes"):
        monkeypatch.setattr(random, name, forbidden)
    for name in ("random", "getrandbits", "randrange", "randbytes"):
        monkeypatch.setattr(random.Random, name, forbidden)
    calls = []
    real_randbelow = secrets.randbelow

    def counting(bound: int) -> int:
        calls.append(bound)
        return real_randbelow(bound)

    monkeypatch.setattr(secrets, "randbelow", counting)
    masks = LibraMasks.draw(12)
    assert len(calls) == 4 * 12 + 5
    assert set(calls) == {R - 1}
    grand_sum_hat(LibraMasks(masks.coeffs, masks.lib_blind), [1] * 12)
    assert len(calls) == 4 * 12 + 8
    # randbelow(R − 1) + 1 is never 0, even at randbelow's extreme values.
    for extreme in (0, R - 2):
        monkeypatch.setattr(secrets, "randbelow", lambda bound, v=extreme: v)
        assert all(0 < v < R for v in all_values(LibraMasks.draw(1)))


# --------------------------------------------------------------------------------------------------
# The v2 skeleton in batch.py: masks, round challenges, the batched opening with the Libra proof


class RecordingTranscript(Transcript):
    """A transcript that records ``(tag, length)`` of every absorb."""

    def __init__(self, domain: bytes) -> None:
        super().__init__(domain)
        self.log: list[tuple[int, int]] = []

    def absorb(self, tag: int, data: bytes) -> None:
        self.log.append((tag, len(data)))
        super().absorb(tag, data)


def zk_values(masks: ZkMasks) -> list[int]:
    return all_values(masks.libra) + list(masks.gemini)


def test_zk_masks_are_nonzero_fresh_and_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = ZkMasks.draw(13), ZkMasks.draw(13)
    assert len(first.gemini) == D
    a, b = zk_values(first), zk_values(second)
    assert all(0 < v < R for v in a + b)
    assert not set(a) & set(b)
    assert ZkMasks.draw(13, random.Random(1)) == ZkMasks.draw(13, random.Random(1))
    chunk = WeightMask.draw_chunk()
    assert len(chunk) == D and chunk[: D // 2] == chunk[D // 2 :]
    assert all(0 < v < R for v in chunk)
    assert not set(chunk) & set(WeightMask.draw_chunk())

    def forbidden(*args: object, **kwargs: object) -> int:
        raise AssertionError("the random module was used for a mask")

    for name in ("random", "randrange", "randint", "getrandbits", "choice", "randbytes"):
        monkeypatch.setattr(random, name, forbidden)
    for name in ("random", "getrandbits", "randrange", "randbytes"):
        monkeypatch.setattr(random.Random, name, forbidden)
    ZkMasks.draw(13)
    WeightMask.draw_chunk()


def test_round_challenges() -> None:
    points = [g1_generator(), G1Point.identity()]
    layout = Layout.of(64, 64)
    tr = RecordingTranscript(b"rounds")
    alpha, lam = round1_challenges(tr, points, 2, 12345)
    manual = Transcript(b"rounds")
    manual.absorb(TAG_ROUND1, b"".join(encode_g1(p) for p in points) + (12345).to_bytes(32, "big"))
    assert [alpha, lam] == manual.challenges(2)
    tau, tau2, gamma, rho_l = round2_challenges(tr, points[:1], layout)
    manual.absorb(TAG_ROUND2, encode_g1(points[0]))
    expected = manual.challenges(layout.mu_i + layout.ell + 2)
    assert [*tau, *tau2, gamma, rho_l] == expected
    assert tr.state == manual.state
    with pytest.raises(ValueError):
        round1_challenges(tr, points, 1, R)


class BatchCase:
    """An honest batched opening of two polynomials (``W′`` with blinding, and one more)."""

    def __init__(self, setup: Setup, *, weight_mask: bool, seed: int) -> None:
        rng = random.Random(seed)
        self.setup = setup
        self.layout = layout = Layout.of(64, 64)  # ℓ = 13, K_W = 2
        k = layout.k_w
        mp = layout.m_pad
        w_flat = np.array([rng.randrange(-100, 100) for _ in range(k * D)], dtype=np.int64)
        self.blinding = np.empty((k, mp), dtype=object)
        self.blinding[:, :] = [[rng.randrange(1, R) for _ in range(mp)] for _ in range(k)]
        full_w = [int(v) % R for v in w_flat]
        for kappa in range(k):
            for i in range(mp):
                w_flat[kappa * D + D - mp + i] = 0
                full_w[kappa * D + D - mp + i] = self.blinding[kappa, i]
        other = [rng.randrange(R) for _ in range(D + 17)]
        other_flat = obj_array(other)
        self.polys: list[tuple[Flat, int]] = [(w_flat, k), (other_flat, 2)]
        self.groups = [
            [commit(setup, full_w[c * D : (c + 1) * D]) for c in range(k)],
            [commit(setup, other[c * D : (c + 1) * D]) for c in range(2)],
        ]
        self.point = random_point(rng, layout.ell)
        self.masks = ZkMasks.draw(layout.ell, rng)
        self.c_lib, self.c_mk = self.masks.commitments(setup)
        self.s_g = self.masks.libra.evaluate(self.point)
        w_eval = mle_eval(full_w, self.point)
        self.w_mask: WeightMask | None = None
        self.w_commitment: tuple[G1Point, int] | None = None
        if weight_mask:
            chunk = WeightMask.draw_chunk(rng)
            u_top = self.point[-1]
            scale = u_top * (1 - u_top) % R
            self.w_mask = WeightMask(chunk=chunk, scale=scale)
            self.w_commitment = (commit(setup, chunk), scale)
            w_eval = (w_eval + scale * mle_eval(chunk, self.point[:LOG_D])) % R
        self.evals = [w_eval, mle_eval(other, self.point)]
        tr = RecordingTranscript(b"batch test")
        self.opening, self.tail = open_batched(
            setup,
            layout,
            self.polys,
            self.blinding,
            self.point,
            self.evals,
            tr,
            masks=self.masks,
            s_g=self.s_g,
            w_mask=self.w_mask,
        )
        self.log = tr.log
        self.final_state = tr.state

    def verify(self, **changes: object) -> Transcript:
        args: dict[str, object] = {
            "groups": self.groups,
            "point": self.point,
            "evals": [*self.evals, *self.tail],
            "opening": self.opening,
            "c_lib": self.c_lib,
            "c_mk": self.c_mk,
            "s_g": self.s_g,
            "w_mask_commitment": self.w_commitment,
        }
        args.update(changes)
        tr = Transcript(b"batch test")
        verify_batched(
            self.setup,
            self.layout,
            args["groups"],  # type: ignore[arg-type]
            args["point"],  # type: ignore[arg-type]
            args["evals"],  # type: ignore[arg-type]
            args["opening"],  # type: ignore[arg-type]
            tr,
            c_lib=args["c_lib"],  # type: ignore[arg-type]
            c_mk=args["c_mk"],  # type: ignore[arg-type]
            s_g=args["s_g"],  # type: ignore[arg-type]
            w_mask_commitment=args["w_mask_commitment"],  # type: ignore[arg-type]
        )
        return tr


@pytest.fixture(scope="module")
def inference_case(real_setup: Setup) -> BatchCase:
    return BatchCase(real_setup, weight_mask=True, seed=31)


@pytest.fixture(scope="module")
def registration_case(real_setup: Setup) -> BatchCase:
    return BatchCase(real_setup, weight_mask=False, seed=32)


def test_batched_opening_completeness(
    inference_case: BatchCase, registration_case: BatchCase
) -> None:
    for case in (inference_case, registration_case):
        assert case.verify().state == case.final_state
        assert case.tail == [mle_eval(case.masks.gemini, case.point[:LOG_D]), case.s_g]
        assert [tag for tag, _ in case.log] == [0x04, 0x08, 0x09, 0x05, 0x06, 0x07]
        lengths = dict(case.log)
        assert lengths[0x04] == 4 * 32
        assert lengths[0x08] == lengths[0x09] == 128
        assert lengths[0x06] == (3 * LOG_D + 4) * 32
        assert lengths[0x07] == 4 * 128
        data = case.opening.to_bytes()
        assert len(data) == ZkOpeningProof.BYTE_LEN == 2 * 128 + 3200
        assert data[:128] == encode_g1(case.opening.c_a)
        assert data[128:256] == encode_g1(case.opening.c_q)
        assert ZkOpeningProof.from_bytes(data) == case.opening
    with pytest.raises(EncodingError):
        ZkOpeningProof.from_bytes(inference_case.opening.to_bytes()[:-1])


def batch_rejected(case: BatchCase, **changes: object) -> None:
    with pytest.raises(ProofRejected):
        case.verify(**changes)


def test_batched_opening_rejects_wrong_evaluations(inference_case: BatchCase) -> None:
    case = inference_case
    full = [*case.evals, *case.tail]
    for index in range(len(full)):
        changed = list(full)
        changed[index] = (changed[index] + 1) % R
        s_g = changed[-1]
        batch_rejected(case, evals=changed, s_g=s_g)
    batch_rejected(case, s_g=(case.s_g + 1) % R)  # differs from evals[-1]
    batch_rejected(case, evals=full[:-1])
    batch_rejected(case, evals=[*full, 0])
    point = list(case.point)
    point[-1] = (point[-1] + 1) % R
    batch_rejected(case, point=point)


def test_batched_opening_rejects_wrong_commitments(inference_case: BatchCase) -> None:
    case = inference_case
    identity = G1Point.identity()
    other = g1_mul(g1_generator(), 4242)
    assert case.w_commitment is not None
    c_r, scale = case.w_commitment
    for name in ("c_lib", "c_mk"):
        for bad in (identity, other):
            batch_rejected(case, **{name: bad})
    batch_rejected(case, c_lib=case.c_mk, c_mk=case.c_lib)
    for bad_r in ((identity, scale), (other, scale), (c_r, 0), (c_r, (scale + 1) % R)):
        batch_rejected(case, w_mask_commitment=bad_r)
    batch_rejected(case, w_mask_commitment=None)
    opening = case.opening
    for bad_opening in (
        replace(opening, c_a=identity),
        replace(opening, c_q=identity),
        replace(opening, c_a=other),
        replace(opening, c_q=other),
        replace(opening, c_a=opening.c_q, c_q=opening.c_a),
    ):
        batch_rejected(case, opening=bad_opening)
    groups = [list(case.groups[0]), list(case.groups[1])]
    groups[0][0], groups[0][1] = groups[0][1], groups[0][0]
    batch_rejected(case, groups=groups)


def test_batched_opening_rejects_tampered_libra_values(inference_case: BatchCase) -> None:
    opening = inference_case.opening
    for j in range(4):
        values = list(opening.opening.libra_evals)
        values[j] = (values[j] + 1) % R
        inner = replace(opening.opening, libra_evals=(values[0], values[1], values[2], values[3]))
        batch_rejected(inference_case, opening=replace(opening, opening=inner))


def test_batched_opening_prover_refuses_a_wrong_s_g(registration_case: BatchCase) -> None:
    case = registration_case
    with pytest.raises(WitnessError):
        open_batched(
            case.setup,
            case.layout,
            case.polys,
            case.blinding,
            case.point,
            case.evals,
            Transcript(b"batch test"),
            masks=case.masks,
            s_g=(case.s_g + 1) % R,
            w_mask=None,
        )
