"""
Libra masking of the sumcheck and the small-subgroup proof of its final value
(docs/proof-system-zk.md Z5; the reasons are docs/proof-system-v2-design.md §4).

Introduction
------------
The prover hides every round polynomial of the sumcheck by adding ``ρ_L·G`` to the relation, where
``G(X) = Σ_v g_v(X_v)`` and ``g_v(X) = Σ_{e<4} a_{v,e}·X^e`` are fresh random cubics, one per
variable ``v = 1..ℓ``. The verifier learns ``Γ = Σ_{x∈{0,1}^ℓ} G(x)`` in round 1 and, at the end,
``s_G = G(u)``, which the prover proves against the hiding commitment ``C_Lib``:

* the ``4ℓ`` coefficients are the values of one polynomial ``Lib`` on the subgroup
  ``H = {ω^k : k < N}`` (``N = 128``): ``Lib(ω^{4(v−1)+e}) = a_{v,e}``, zero on the rest of ``H``;
  the committed ``Lib̂ = Lib + Z_H·(b₀ + b₁X)`` has the same values on ``H``;
* with the public weights ``w(ω^{4(v−1)+e}) = u_v^e``, ``s_G = Σ_{h∈H} Lib(h)·w(h)``; the grand sum
  ``A`` (``A(1) = 0``, ``A(ω^{k+1}) = A(ω^k) + Lib(ω^k)·w(ω^k)``) is committed blinded as
  ``Â = A + Z_H·(c₀ + c₁X + c₂X²)`` and
  ``T = L_0·Â + κ·(X − ω^{N−1})·(Â(ωX) − Â − Lib̂·w) + κ²·L_{N−1}·(Â + Lib̂·w − s_G)`` is divisible
  by ``Z_H = X^N − 1`` exactly when the sum is right; ``Q̂ = T / Z_H`` is committed;
* at the opening challenge ``β ∉ H`` the verifier gets ``Lib̂(β), Â(β), Q̂(β), Â(ωβ)`` (opened by
  :mod:`sumkzg.hyperkzg`) and checks ``T(β) = Q̂(β)·Z_H(β)`` (:func:`check_sum_identity`), computing
  ``w(β)`` by barycentric interpolation over ``H``.

Field elements are Python ints in ``[0, R)``; polynomials are coefficient lists (coefficient ``i``
of ``X^i``). Every mask is drawn from :mod:`secrets` unless a caller passes an ``rng``, which is for
TESTS ONLY (golden vectors, byte-equality of backends).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ProofRejected, WitnessError
from .field import R, batch_inv

N = 128
"""The size of the subgroup ``H`` (``4ℓ ≤ N``: at most 32 sumcheck variables)."""

OMEGA = 0x6898111413588742B7C68B4D7FDD60D098D0CAAC87F5713C5130C2C1660125BE
"""``ω = 7^((r−1)/128) mod r``, a generator of ``H`` (order exactly ``N``)."""

MAX_VARS = N // 4
"""The most sumcheck variables a Libra mask covers (four coefficients per variable)."""

COEFFS_PER_VAR = 4
"""Coefficients of each ``g_v`` (degree 3, the degree of the round polynomials)."""

_INV_N = pow(N, -1, R)
_OMEGA_INV = pow(OMEGA, -1, R)


def _check_omega() -> None:
    """Refuse to import with a wrong ``ω`` (``ω^N = 1`` and ``ω^{N/2} = −1``: order exactly N)."""
    if pow(OMEGA, N, R) != 1 or pow(OMEGA, N // 2, R) != R - 1:
        raise RuntimeError("OMEGA does not have order exactly N")


_check_omega()

H_ELEMENTS: tuple[int, ...] = tuple(pow(OMEGA, k, R) for k in range(N))
"""``ω^k`` for ``k < N``."""

OMEGA_LAST = H_ELEMENTS[N - 1]
"""``ω^{N−1} = ω^{−1}``."""


def random_nonzero(rng: random.Random | None = None) -> int:
    """
    Return a uniform element of ``F \\ {0}``.

    Parameters
    ----------
    rng :
        TESTS ONLY: a deterministic source; ``None`` (the default, and the only choice for a real
        proof) draws from :mod:`secrets`.
    """
    if rng is None:
        return secrets.randbelow(R - 1) + 1
    return rng.randrange(1, R)


def random_nonzero_vector(count: int, rng: random.Random | None = None) -> list[int]:
    """``count`` independent :func:`random_nonzero` values (``rng``: TESTS ONLY)."""
    return [random_nonzero(rng) for _ in range(count)]


# --------------------------------------------------------------------------------------------------
# Polynomial arithmetic over H


def _dft(values: Sequence[int], root: int) -> list[int]:
    """``out[k] = Σ_i values[i]·root^{ik}`` for a power-of-two length (radix-2, recursive)."""
    n = len(values)
    if n == 1:
        return [values[0] % R]
    root_sq = root * root % R
    even = _dft(values[0::2], root_sq)
    odd = _dft(values[1::2], root_sq)
    half = n // 2
    out = [0] * n
    twiddle = 1
    for k in range(half):
        t = twiddle * odd[k] % R
        out[k] = (even[k] + t) % R
        out[k + half] = (even[k] - t) % R
        twiddle = twiddle * root % R
    return out


def interpolate_on_h(values: Sequence[int]) -> list[int]:
    """
    Return the ``N`` coefficients of the polynomial of degree ``< N`` with value ``values[k]`` at
    ``ω^k``.

    Raises
    ------
    ValueError
        If ``len(values) != N``.
    """
    if len(values) != N:
        raise ValueError(f"{len(values)} values on H, expected {N}")
    return [c * _INV_N % R for c in _dft(values, _OMEGA_INV)]


def evaluate_on_h(coeffs: Sequence[int]) -> list[int]:
    """
    Return ``P(ω^k)`` for ``k < N`` (any number of coefficients: they are reduced mod ``X^N − 1``).
    """
    folded = [0] * N
    for i, c in enumerate(coeffs):
        folded[i % N] += c
    return _dft(folded, OMEGA)


def poly_eval(coeffs: Sequence[int], x: int) -> int:
    """``Σ_i coeffs[i]·x^i mod R`` (Horner)."""
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    return acc


def poly_mul(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """The product of two coefficient lists (schoolbook; ``len(a) + len(b) − 1`` coefficients)."""
    if not a or not b:
        return []
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return [c % R for c in out]


def _divide_by_linear(coeffs: Sequence[int], s: int) -> tuple[list[int], int]:
    """``(quotient, remainder)`` of ``P(X)`` by ``X − s``: ``P = (X − s)·quotient + P(s)``."""
    n = len(coeffs)
    if n == 0:
        return [], 0
    quotient = [0] * max(n - 1, 0)
    acc = 0
    for k in range(n - 1, 0, -1):
        acc = (acc * s + coeffs[k]) % R
        quotient[k - 1] = acc
    return quotient, (acc * s + coeffs[0]) % R


def _divide_by_z_h(coeffs: Sequence[int]) -> tuple[list[int], list[int]]:
    """``(quotient, remainder)`` of ``P(X)`` by ``Z_H = X^N − 1`` (remainder: N entries)."""
    work = [c % R for c in coeffs] + [0] * max(0, N - len(coeffs))
    quotient = [0] * max(0, len(work) - N)
    for i in range(len(work) - 1, N - 1, -1):
        top = work[i]
        quotient[i - N] = top
        work[i - N] = (work[i - N] + top) % R
        work[i] = 0
    return quotient, work[:N]


def _add_z_h_multiple(coeffs: Sequence[int], blind: Sequence[int]) -> list[int]:
    """``P + Z_H·Σ_i blind[i]·X^i`` for ``P`` of degree ``< N``: ``N + len(blind)`` coefficients."""
    out = [c % R for c in coeffs] + [0] * (N + len(blind) - len(coeffs))
    for i, b in enumerate(blind):
        out[i] = (out[i] - b) % R
        out[N + i] = (out[N + i] + b) % R
    return out


def weight_values(point: Sequence[int]) -> list[int]:
    """
    The public weights on ``H``: ``w(ω^{4(v−1)+e}) = u_v^e`` for ``v = 1..ℓ``, ``e < 4``, then 0.

    Parameters
    ----------
    point :
        ``u_1..u_ℓ`` (variable order), ``1 ≤ ℓ ≤ 32``.
    """
    _check_ell(len(point))
    out = [0] * N
    for v, u in enumerate(point):
        power = 1
        for e in range(COEFFS_PER_VAR):
            out[COEFFS_PER_VAR * v + e] = power
            power = power * u % R
    return out


def _check_ell(ell: int) -> None:
    if not 1 <= ell <= MAX_VARS:
        raise ValueError(f"a Libra mask covers 1..{MAX_VARS} variables, not {ell}")


# --------------------------------------------------------------------------------------------------
# The masks


@dataclass(frozen=True)
class LibraMasks:
    """
    The Libra mask of one proof: ``g_v(X) = Σ_e coeffs[v−1][e]·X^e`` and the ``Z_H`` blinders.

    Attributes
    ----------
    coeffs :
        ``a_{v,e}`` as ``coeffs[v−1][e]`` for ``v = 1..ℓ`` (``1 ≤ ℓ ≤ 32``), field elements.
    lib_blind :
        ``(b₀, b₁)``: ``Lib̂ = Lib + Z_H·(b₀ + b₁X)``.
    sum_blind :
        ``(c₀, c₁, c₂)``: ``Â = A + Z_H·(c₀ + c₁X + c₂X²)``; drawn with the rest by :meth:`draw`, so
        that one draw fixes every mask of a proof. ``None``: :func:`grand_sum_hat` draws them.

    All must be fresh for each proof and uniform in ``F \\ {0}`` (docs/proof-system-zk.md Z0).
    """

    coeffs: tuple[tuple[int, int, int, int], ...]
    lib_blind: tuple[int, int]
    sum_blind: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        _check_ell(len(self.coeffs))
        values = [c for row in self.coeffs for c in row] + list(self.lib_blind)
        if self.sum_blind is not None:
            values += list(self.sum_blind)
        if any(len(row) != COEFFS_PER_VAR for row in self.coeffs) or len(self.lib_blind) != 2:
            raise ValueError("a Libra mask has four coefficients per variable and two blinders")
        if self.sum_blind is not None and len(self.sum_blind) != 3:
            raise ValueError("the grand sum has three blinders")
        if any(not 0 <= c < R for c in values):
            raise ValueError("Libra mask values must be field elements in [0, r)")

    @property
    def ell(self) -> int:
        """``ℓ``, the number of masked variables."""
        return len(self.coeffs)

    @staticmethod
    def draw(ell: int, rng: random.Random | None = None) -> LibraMasks:
        """
        Draw a fresh mask for ``ℓ`` variables, every value uniform in ``F \\ {0}``.

        Parameters
        ----------
        ell :
            ``1 ≤ ℓ ≤ 32``.
        rng :
            TESTS ONLY (golden vectors): a deterministic source; ``None`` uses :mod:`secrets`.
        """
        _check_ell(ell)
        coeffs = tuple(
            (random_nonzero(rng), random_nonzero(rng), random_nonzero(rng), random_nonzero(rng))
            for _ in range(ell)
        )
        lib_blind = (random_nonzero(rng), random_nonzero(rng))
        sum_blind = (random_nonzero(rng), random_nonzero(rng), random_nonzero(rng))
        return LibraMasks(coeffs=coeffs, lib_blind=lib_blind, sum_blind=sum_blind)

    def lib_values(self) -> list[int]:
        """``Lib(ω^k)`` for ``k < N``: ``a_{v,e}`` at ``k = 4(v−1) + e``, then 0."""
        out = [c for row in self.coeffs for c in row]
        return out + [0] * (N - len(out))

    def lib_hat(self) -> list[int]:
        """The ``N + 2`` coefficients of ``Lib̂ = Lib + Z_H·(b₀ + b₁X)`` (committed as ``C_Lib``)."""
        return _add_z_h_multiple(interpolate_on_h(self.lib_values()), self.lib_blind)

    def total_sum(self) -> int:
        """``Γ = Σ_{x∈{0,1}^ℓ} G(x) = 2^{ℓ−1}·Σ_v (2a_{v,0} + a_{v,1} + a_{v,2} + a_{v,3})``."""
        inner = sum(2 * a0 + a1 + a2 + a3 for a0, a1, a2, a3 in self.coeffs)
        return (1 << (self.ell - 1)) * inner % R

    def evaluate(self, point: Sequence[int]) -> int:
        """
        ``G(u) = Σ_v g_v(u_v)`` (``s_G`` when ``point`` is the sumcheck's point).

        Parameters
        ----------
        point :
            ``u_1..u_ℓ`` in variable order.

        Raises
        ------
        ValueError
            If ``len(point) != ℓ``.
        """
        if len(point) != self.ell:
            raise ValueError(f"a point of {len(point)} coordinates for {self.ell} variables")
        return sum(poly_eval(row, u) for row, u in zip(self.coeffs, point, strict=True)) % R


class LibraAddend:
    """
    The Libra part ``ρ_L·G`` of the round polynomials, as a sumcheck round addend
    (:class:`~sumkzg.sumcheck.RoundAddend`).

    Round ``t`` (1-based) binds variable ``v = ℓ + 1 − t``; its polynomial is ``ρ_L`` times
    ``2^{ℓ−t}·(g_v(X) + Σ_{v′>v} g_{v′}(u_{v′})) + 2^{ℓ−t−1}·Σ_{v′<v} (g_{v′}(0) + g_{v′}(1))``
    (the last sum is empty in round ``ℓ``), i.e. ``Σ`` over the unbound variables of ``ρ_L·G``.
    Round 1 sums to ``ρ_L·Γ``; after the ``ℓ`` rounds the claim is ``ρ_L·G(u)``.

    Parameters
    ----------
    masks :
        The proof's Libra mask.
    rho_l :
        ``ρ_L``, drawn after ``γ``.
    """

    def __init__(self, masks: LibraMasks, rho_l: int) -> None:
        self.masks = masks
        self.rho_l = rho_l % R
        self.challenges: list[int] = []
        """The challenges bound so far, in round order (``u_ℓ`` first)."""
        self._bound_sum = 0  # Σ_{v′>v} g_{v′}(u_{v′})
        # _prefix[v] = Σ_{v′ ≤ v} (g_{v′}(0) + g_{v′}(1)), v = 0..ℓ.
        self._prefix = [0]
        for a0, a1, a2, a3 in masks.coeffs:
            self._prefix.append((self._prefix[-1] + 2 * a0 + a1 + a2 + a3) % R)

    def _variable(self) -> int:
        t = len(self.challenges) + 1
        if t > self.masks.ell:
            raise ValueError("every Libra round is bound")
        return self.masks.ell + 1 - t

    def round_evals(self) -> list[int]:
        """
        This round's Libra polynomial at ``X = 0, 1, 2, 3``.

        Raises
        ------
        ValueError
            If all ``ℓ`` rounds are bound.
        """
        v = self._variable()
        rounds_left = v - 1  # ℓ − t
        high = 1 << rounds_left
        const = high * self._bound_sum
        if rounds_left:
            const += (1 << (rounds_left - 1)) * self._prefix[v - 1]
        row = self.masks.coeffs[v - 1]
        return [self.rho_l * (high * poly_eval(row, x) + const) % R for x in range(4)]

    def bind(self, u: int) -> None:
        """
        Bind this round's variable to ``u`` (recorded in :attr:`challenges`).

        Raises
        ------
        ValueError
            If all ``ℓ`` rounds are bound.
        """
        v = self._variable()
        u %= R
        self._bound_sum = (self._bound_sum + poly_eval(self.masks.coeffs[v - 1], u)) % R
        self.challenges.append(u)


# --------------------------------------------------------------------------------------------------
# The sum proof


def grand_sum_hat(
    masks: LibraMasks, point: Sequence[int], rng: random.Random | None = None
) -> list[int]:
    """
    The ``N + 3`` coefficients of ``Â = A + Z_H·(c₀ + c₁X + c₂X²)`` (committed as ``C_A``).

    ``A`` has degree ``< N``, ``A(ω^0) = 0`` and ``A(ω^{k+1}) = A(ω^k) + Lib(ω^k)·w(ω^k)`` for
    ``k < N − 1``, so ``A(ω^{N−1}) + Lib(ω^{N−1})·w(ω^{N−1}) = G(point)``.

    Parameters
    ----------
    masks :
        The Libra mask; its ``sum_blind`` gives ``c₀, c₁, c₂`` (if ``None``, they are drawn here).
    point :
        The sumcheck's point ``u_1..u_ℓ``.
    rng :
        TESTS ONLY, used only when ``masks.sum_blind`` is ``None``; default :mod:`secrets`.
    """
    if len(point) != masks.ell:
        raise ValueError(f"a point of {len(point)} coordinates for {masks.ell} variables")
    weights = weight_values(point)
    lib = masks.lib_values()
    values = [0] * N
    for k in range(N - 1):
        values[k + 1] = (values[k] + lib[k] * weights[k]) % R
    blind = masks.sum_blind
    if blind is None:
        blind = (random_nonzero(rng), random_nonzero(rng), random_nonzero(rng))
    return _add_z_h_multiple(interpolate_on_h(values), blind)


def quotient_hat(
    masks: LibraMasks, a_hat: Sequence[int], point: Sequence[int], s_g: int, kappa: int
) -> list[int]:
    """
    The ``2N`` coefficients of ``Q̂ = T / Z_H`` (committed as ``C_Q``), with

    ``T = L_0·Â + κ·(X − ω^{N−1})·(Â(ωX) − Â − Lib̂·w) + κ²·L_{N−1}·(Â + Lib̂·w − s_G)``.

    The ``L_k`` terms are split exactly: ``L_k·P = (ω^k/N)·Z_H·(P div (X − ω^k)) +
    P(ω^k)·L_k``; the middle term is divided by ``Z_H``; the parts of degree ``< N`` must cancel.

    Parameters
    ----------
    masks :
        The Libra mask (``Lib̂`` is :meth:`LibraMasks.lib_hat`).
    a_hat :
        ``Â`` (:func:`grand_sum_hat`), at most ``N + 3`` coefficients.
    point, s_g, kappa :
        The sumcheck's point, ``s_G = G(point)`` and the challenge ``κ``.

    Raises
    ------
    WitnessError
        If ``Z_H`` does not divide ``T`` (``Â`` is not the grand sum or ``s_G`` is wrong).
    """
    if len(a_hat) > N + 3:
        raise ValueError(f"Â of {len(a_hat)} coefficients, at most {N + 3}")
    a_hat = [c % R for c in a_hat]
    kappa %= R
    kappa_sq = kappa * kappa % R
    lib_w = poly_mul(masks.lib_hat(), interpolate_on_h(weight_values(point)))  # 2N + 1
    size = len(lib_w)
    a_pad = a_hat + [0] * (size - len(a_hat))
    # Middle term κ·(X − ω^{N−1})·D with D = Â(ωX) − Â − Lib̂·w.
    diff = [0] * size
    omega_power = 1
    for i in range(size):
        diff[i] = (a_pad[i] * (omega_power - 1) - lib_w[i]) % R
        omega_power = omega_power * OMEGA % R
    middle = [0] * (size + 1)
    for i, c in enumerate(diff):
        middle[i + 1] += kappa * c
        middle[i] -= kappa * OMEGA_LAST % R * c
    q_middle, r_middle = _divide_by_z_h(middle)
    # L_0·Â and κ²·L_{N−1}·(Â + Lib̂·w − s_G).
    q_first, at_one = _divide_by_linear(a_hat, 1)
    last = [(a + lw) % R for a, lw in zip(a_pad, lib_w, strict=True)]
    last[0] = (last[0] - s_g) % R
    q_last, at_last = _divide_by_linear(last, OMEGA_LAST)
    # The remainder a·L_0 + κ²·b·L_{N−1} + r_middle (coefficient i of L_k is ω^{−ki}/N) must be 0.
    c_first = at_one * _INV_N % R
    c_last = kappa_sq * at_last % R * _INV_N % R
    omega_power = 1
    for i in range(N):
        if (c_first + c_last * omega_power + r_middle[i]) % R:
            raise WitnessError("Z_H does not divide T: s_G is not the sum of Lib·w over H")
        omega_power = omega_power * OMEGA % R
    out = [0] * (2 * N)
    scale_last = kappa_sq * OMEGA_LAST % R * _INV_N % R
    for i, c in enumerate(q_first):
        out[i] += c * _INV_N
    for i, c in enumerate(q_last):
        out[i] += c * scale_last
    for i, c in enumerate(q_middle):
        out[i] += c
    return [c % R for c in out]


def check_sum_identity(
    ell: int,
    point: Sequence[int],
    s_g: int,
    kappa: int,
    beta: int,
    lib_b: int,
    a_b: int,
    q_b: int,
    a_wb: int,
) -> None:
    """
    The verifier's check of ``s_G``: ``T(β) = Q̂(β)·Z_H(β)`` with the opened values.

    ``w(β) = (Z_H(β)/N)·Σ_{k<4ℓ} w(ω^k)·ω^k/(β − ω^k)`` (barycentric over ``H``),
    ``L_0(β) = Z_H(β)/(N·(β − 1))``, ``L_{N−1}(β) = ω^{N−1}·Z_H(β)/(N·(β − ω^{N−1}))``, and
    ``T(β) = L_0(β)·Â(β) + κ·(β − ω^{N−1})·(Â(ωβ) − Â(β) − Lib̂(β)·w(β))
    + κ²·L_{N−1}(β)·(Â(β) + Lib̂(β)·w(β) − s_G)``.

    Parameters
    ----------
    ell, point :
        ``ℓ`` and the sumcheck's point ``u_1..u_ℓ``.
    s_g, kappa, beta :
        The claimed ``G(u)``, the challenge ``κ`` and the opening challenge ``β``.
    lib_b, a_b, q_b, a_wb :
        ``Lib̂(β), Â(β), Q̂(β), Â(ωβ)`` as opened.

    Raises
    ------
    ProofRejected
        If ``β^N = 1`` (``β ∈ H``), the point does not have ``ℓ`` coordinates or the identity
        fails.
    """
    if len(point) != ell or not 1 <= ell <= MAX_VARS:
        raise ProofRejected(f"Libra point of {len(point)} coordinates for ℓ = {ell}")
    beta %= R
    z_h = (pow(beta, N, R) - 1) % R
    if z_h == 0:
        raise ProofRejected("β^N = 1")
    count = COEFFS_PER_VAR * ell
    inverses = batch_inv([beta - H_ELEMENTS[k] for k in range(count)] + [beta - OMEGA_LAST])
    weights = weight_values(point)
    z_over_n = z_h * _INV_N % R
    w_sum = sum(weights[k] * H_ELEMENTS[k] % R * inverses[k] for k in range(count))
    w_b = z_over_n * w_sum % R
    l_first = z_over_n * inverses[0] % R  # H_ELEMENTS[0] = 1
    l_last = z_over_n * OMEGA_LAST % R * inverses[count] % R
    lib_w = lib_b * w_b % R
    t = (
        l_first * a_b
        + kappa * (beta - OMEGA_LAST) % R * ((a_wb - a_b - lib_w) % R)
        + kappa * kappa % R * l_last % R * ((a_b + lib_w - s_g) % R)
    ) % R
    if t != q_b * z_h % R:
        raise ProofRejected("the Libra sum identity fails")
