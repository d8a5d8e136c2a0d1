"""
The trusted setup: the Ethereum KZG ceremony's transcript as shipped in npm ``c-kzg``
(docs/proof-system.md §2).

Introduction
------------
The file ``trusted_setup.txt`` holds, one per line: the count ``4096``, the count ``65``, then
4096 G1 points in Lagrange form (bit-reversed), 65 G2 monomial points ``[τ^k]₂`` and 4096 G1
monomial points ``[τ^k]₁``, each as the hex of its compressed (ZCash) encoding. Only the G1
monomial section (``G[k] = [τ^k]₁``) and the first two G2 points (``H0 = [1]₂``, ``H1 = [τ]₂``)
are used.

:func:`load_setup` refuses any file whose SHA-256 is not :data:`SETUP_ID`, then checks the structure
of the points with a random linear combination (``e(Σ ρ_i G[i+1], H0) = e(Σ ρ_i G[i], H1)``, ``ρ``
from :mod:`secrets`) and that ``G[0]``, ``H0`` are the standard generators. No code path outside the
tests builds a setup with a known τ; :func:`toy_setup_for_tests` is that test-only path.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from py_arkworks_bls12381 import G1Point, G2Point

from .curve import g1_generator, g1_mul, g2_generator, g2_mul, msm, pairing_check
from .errors import SetupError
from .field import R

D = 4096
"""Number of G1 monomial points used (the maximum polynomial length)."""
LOG_D = 12
"""``log₂ D``: the number of variables of an opened multilinear polynomial."""

SETUP_ID = bytes.fromhex("d39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7")
"""SHA-256 of the pinned ``trusted_setup.txt`` (docs/proof-system.md §2)."""

SETUP_ENV_VAR = "OPZK_TRUSTED_SETUP"
"""Environment variable that overrides the setup file's path."""

_G2_POINTS = 65
_RELATIVE_PATH = Path("node_modules/c-kzg/deps/c-kzg/trusted_setup.txt")
_RHO_BITS = 128  # random-linear-combination coefficients: a false structure passes w.p. ≤ 2^-128


@dataclass(frozen=True, eq=False)
class Setup:
    """
    The powers of τ used by the proof system.

    Attributes
    ----------
    g1 :
        ``G[k] = [τ^k]₁`` for ``k < len(g1)`` (``D`` for the real setup).
    h0 :
        ``[1]₂``.
    h1 :
        ``[τ]₂``.
    setup_id :
        SHA-256 of the setup file (:data:`SETUP_ID`); 32 zero bytes for a toy setup.
    """

    g1: tuple[G1Point, ...]
    h0: G2Point
    h1: G2Point
    setup_id: bytes

    @property
    def size(self) -> int:
        """The number of G1 points (the maximum committed length)."""
        return len(self.g1)

    @property
    def num_vars(self) -> int:
        """``log₂ size``: the number of variables of an opened multilinear polynomial."""
        return self.size.bit_length() - 1


def default_setup_path() -> Path:
    """
    Return the setup file's path.

    ``$OPZK_TRUSTED_SETUP`` if set, else ``<repo root>/node_modules/c-kzg/deps/c-kzg/
    trusted_setup.txt``, the repository root being the parent of the :mod:`sumkzg` package.
    """
    override = os.environ.get(SETUP_ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / _RELATIVE_PATH


def load_setup(path: Path | None = None) -> Setup:
    """
    Load, authenticate and check the trusted setup (cached per resolved path).

    Parameters
    ----------
    path :
        The file; :func:`default_setup_path` when omitted.

    Returns
    -------
    setup : `Setup`
        ``D`` monomial G1 points, ``[1]₂``, ``[τ]₂`` and ``setup_id = SETUP_ID``.

    Raises
    ------
    SetupError
        If the file cannot be read, its SHA-256 is not :data:`SETUP_ID`, it does not parse, or
        the structure check fails.
    """
    resolved = (path if path is not None else default_setup_path()).resolve()
    return _load_setup_cached(resolved)


@functools.lru_cache(maxsize=4)
def _load_setup_cached(path: Path) -> Setup:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SetupError(f"cannot read the trusted setup {path}: {error}") from error
    digest = hashlib.sha256(raw).digest()
    if digest != SETUP_ID:
        raise SetupError(
            f"trusted setup {path} has sha256 0x{digest.hex()}, expected 0x{SETUP_ID.hex()}"
        )
    g1, g2 = _parse(raw)
    setup = Setup(g1=g1, h0=g2[0], h1=g2[1], setup_id=digest)
    check_setup_structure(setup)
    return setup


def _parse(raw: bytes) -> tuple[tuple[G1Point, ...], tuple[G2Point, G2Point]]:
    """Parse the c-kzg text format; return the G1 monomial points and ``[1]₂, [τ]₂``."""
    lines = raw.decode("ascii").splitlines()
    if len(lines) < 2 or lines[0] != str(D) or lines[1] != str(_G2_POINTS):
        raise SetupError(f"trusted setup header is not {D} / {_G2_POINTS}")
    expected = 2 + D + _G2_POINTS + D
    if len(lines) != expected:
        raise SetupError(f"trusted setup has {len(lines)} lines, expected {expected}")
    g2_start = 2 + D
    g1_start = g2_start + _G2_POINTS
    try:
        h0, h1 = (G2Point.from_compressed_bytes(bytes.fromhex(lines[g2_start + k])) for k in (0, 1))
        g1 = tuple(
            G1Point.from_compressed_bytes(bytes.fromhex(line))
            for line in lines[g1_start : g1_start + D]
        )
    except ValueError as error:
        raise SetupError(f"trusted setup point does not decode: {error}") from error
    return g1, (h0, h1)


def check_setup_structure(setup: Setup) -> None:
    """
    Check that ``setup`` is a well-formed powers-of-τ sequence.

    ``G[0]`` and ``H0`` are the standard generators, ``H1`` is not the identity (``τ ≠ 0``) and
    ``e(Σ ρ_i G[i+1], H0) = e(Σ ρ_i G[i], H1)`` for fresh random 128-bit ``ρ_i``, ``i < size − 1``.

    Raises
    ------
    SetupError
        If any check fails.
    """
    if not setup.g1 or setup.g1[0] != g1_generator():
        raise SetupError("trusted setup: G[0] is not the G1 generator")
    if setup.h0 != g2_generator():
        raise SetupError("trusted setup: H0 is not the G2 generator")
    if setup.h1 == G2Point.identity():
        raise SetupError("trusted setup: H1 is the identity")
    count = len(setup.g1) - 1
    rho = [secrets.randbits(_RHO_BITS) | 1 for _ in range(count)]
    shifted = msm(setup.g1[1:], rho)
    unshifted = msm(setup.g1[:-1], rho)
    if not pairing_check([(shifted, setup.h0), (-unshifted, setup.h1)]):
        raise SetupError("trusted setup: the points are not successive powers of τ")


@functools.lru_cache(maxsize=4)
def toy_setup_for_tests(tau: int, size: int = D) -> Setup:
    """
    TEST ONLY: a setup with a known trapdoor ``τ`` (anyone holding it can forge every proof).

    Parameters
    ----------
    tau :
        The trapdoor (reduced mod ``R``).
    size :
        The number of G1 points, a power of two.

    Returns
    -------
    setup : `Setup`
        ``G[k] = τ^k·G``, ``H0 = [1]₂``, ``H1 = τ·H0`` and ``setup_id`` 32 zero bytes.
    """
    if size < 1 or size & (size - 1):
        raise ValueError(f"toy setup size {size} is not a power of two")
    tau %= R
    generator = g1_generator()
    points = []
    power = 1
    for _ in range(size):
        points.append(g1_mul(generator, power))
        power = power * tau % R
    h0 = g2_generator()
    return Setup(g1=tuple(points), h0=h0, h1=g2_mul(h0, tau), setup_id=bytes(32))
