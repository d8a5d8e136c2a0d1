"""
Secret-keyed sampling: which claims this challenger re-executes (pure).

A claim is sampled when ``HMAC-SHA256(secret, domain ‖ claim_key)``, read as a big-endian
integer in ``[0, 2^256)``, is below ``p·2^256``. Without the secret a node cannot tell which of its
claims will be checked (HMAC is a PRF), so it cannot cheat only on the unsampled ones; with it the
choice is deterministic, so a restarted challenger makes the same choices. Separate domains give
independent choices for fraud re-execution and for proof demands (``p_zk``).
"""

from __future__ import annotations

import hashlib
import hmac
from fractions import Fraction

SPACE = 1 << 256
"""Size of the HMAC output space."""

DOMAIN_REEXEC = b"opzk.sample.reexec.v1"
"""Domain of the re-execution choice."""

DOMAIN_ZK = b"opzk.sample.zk.v1"
"""Domain of the proof-demand choice."""

MIN_SECRET_BYTES = 16
"""A shorter secret could be guessed."""


def threshold(p: float | Fraction) -> int:
    """
    ``floor(p·2^256)``, exactly: a draw ``d`` is sampled iff ``d < threshold(p)``.

    ``p = 0`` gives 0 (never), ``p = 1`` gives ``2^256`` (always).
    """
    f = Fraction(p)
    if not 0 <= f <= 1:
        raise ValueError(f"a sampling probability must be in [0, 1], got {p}")
    return (f.numerator * SPACE) // f.denominator


def draw(secret: bytes, claim_key: bytes, domain: bytes = DOMAIN_REEXEC) -> int:
    """The claim's pseudo-random draw in ``[0, 2^256)``."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the sampling secret must be at least {MIN_SECRET_BYTES} bytes")
    mac = hmac.new(secret, domain + b"\x00" + claim_key, hashlib.sha256).digest()
    return int.from_bytes(mac, "big")


def sample(
    secret: bytes, claim_key: bytes, p: float | Fraction, domain: bytes = DOMAIN_REEXEC
) -> bool:
    """
    Whether the claim is sampled at probability ``p``.

    Must hold: deterministic in ``(secret, claim_key, p, domain)``; monotone in ``p`` (a claim
    sampled at ``p`` is sampled at every ``p' >= p``); never at ``p = 0``; always at ``p = 1``.
    """
    limit = threshold(p)
    if limit == 0:
        return False
    if limit >= SPACE:
        return True
    return draw(secret, claim_key, domain) < limit


class Sampler:
    """A challenger's two sampling rules (re-execution at ``p``, proof demand at ``p_zk``)."""

    def __init__(self, secret: bytes, p: float, p_zk: float) -> None:
        threshold(p)
        threshold(p_zk)
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the sampling secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self.p = p
        self.p_zk = p_zk

    def __repr__(self) -> str:  # never show the secret
        return f"Sampler(p={self.p}, p_zk={self.p_zk}, secret=<hidden>)"

    def reexec(self, claim_key: bytes) -> bool:
        """Whether to re-execute the claim."""
        return sample(self._secret, claim_key, self.p, DOMAIN_REEXEC)

    def zk(self, claim_key: bytes) -> bool:
        """Whether to demand a proof of the claim's sensitive partitions."""
        return sample(self._secret, claim_key, self.p_zk, DOMAIN_ZK)
