"""
The Fiat–Shamir transcript (docs/proof-system.md §6, docs/proof-system-zk.md Z0, Z8).

Introduction
------------
A Keccak-256 sponge with a 32-byte state:

* ``init(domain)``: ``state = keccak256(domain)``;
* ``absorb(tag, data)``: ``state = keccak256(state ‖ tag ‖ uint32_be(len(data)) ‖ data)``;
* ``challenge()``: ``h1 = keccak256(state ‖ 0xF1)``, ``h2 = keccak256(state ‖ 0xF2)``,
  ``state = keccak256(state ‖ 0xF0)``, returns ``(h1·2^256 + h2) mod r``.

The digests are computed with ``safe-pysha3``'s C Keccak (the same function as
:func:`protocol.keccak.keccak256`, which the tests check).
"""

from __future__ import annotations

import sha3  # type: ignore[import-untyped]

from .errors import TranscriptError
from .field import R

DOMAIN_REGISTRATION = b"SUMKZG-ML/v2/registration"
DOMAIN_INFERENCE = b"SUMKZG-ML/v2/inference"

TAG_STATEMENT = 0x00
"""The statement."""
TAG_ROUND1 = 0x01
"""Round-1 commitments (ending with ``C_Lib ‖ C_Mk ‖ Γ``)."""
TAG_ROUND2 = 0x02
"""Round-2 commitments."""
TAG_SUMCHECK_ROUND = 0x03
"""One sumcheck round: ``s(0) ‖ s(1) ‖ s(2) ‖ s(3)``."""
TAG_EVALUATIONS = 0x04
"""The final evaluations (ending with ``M̃k(u_lo) ‖ s_G``)."""
TAG_FOLDS = 0x05
"""The opening's fold commitments."""
TAG_FOLD_EVALUATIONS = 0x06
"""The ``3d`` fold evaluations then ``Lib̂(β) ‖ Â(β) ‖ Q̂(β) ‖ Â(ωβ)``."""
TAG_WITNESSES = 0x07
"""The opening's quotient witnesses ``W_0 ‖ W_1 ‖ W_2 ‖ W_3``."""
TAG_LIBRA_SUM_COMMIT = 0x08
"""``C_A``, the commitment of the Libra grand sum ``Â`` (docs/proof-system-zk.md Z5); then ``κ``."""
TAG_LIBRA_QUOTIENT = 0x09
"""``C_Q``, the commitment of the Libra quotient ``Q̂ = T / Z_H`` (docs/proof-system-zk.md Z5)."""

_SQUEEZE_HIGH = b"\xf1"
_SQUEEZE_LOW = b"\xf2"
_RATCHET = b"\xf0"
_MAX_DATA_LEN = 2**32 - 1


def keccak256(data: bytes) -> bytes:
    """Return Ethereum's Keccak-256 of ``data`` (Solidity ``keccak256``; not SHA3-256)."""
    digest: bytes = sha3.keccak_256(data).digest()
    return digest


class Transcript:
    """
    A Keccak-256 Fiat–Shamir sponge; see the module docstring for the exact rules.

    Parameters
    ----------
    domain :
        The domain separator, :data:`DOMAIN_REGISTRATION` or :data:`DOMAIN_INFERENCE` (any bytes
        are accepted, for tests).
    """

    __slots__ = ("_state",)

    def __init__(self, domain: bytes) -> None:
        self._state = keccak256(bytes(domain))

    @property
    def state(self) -> bytes:
        """The current 32-byte state."""
        return self._state

    def absorb(self, tag: int, data: bytes) -> None:
        """
        Absorb one tagged, length-prefixed prover message.

        Raises
        ------
        TranscriptError
            If ``tag`` is not one byte or ``data`` is ``2^32`` bytes or longer.
        """
        if not 0 <= tag <= 0xFF:
            raise TranscriptError(f"tag {tag} is not one byte")
        data = bytes(data)
        if len(data) > _MAX_DATA_LEN:
            raise TranscriptError("message longer than 2^32 − 1 bytes")
        self._state = keccak256(self._state + bytes((tag,)) + len(data).to_bytes(4, "big") + data)

    def challenge(self) -> int:
        """Return the next challenge, a field element in ``[0, r)``, and advance the state."""
        high = keccak256(self._state + _SQUEEZE_HIGH)
        low = keccak256(self._state + _SQUEEZE_LOW)
        self._state = keccak256(self._state + _RATCHET)
        return int.from_bytes(high + low, "big") % R

    def challenges(self, count: int) -> list[int]:
        """Return ``count`` consecutive challenges (``count ≥ 0``)."""
        if count < 0:
            raise TranscriptError(f"negative challenge count {count}")
        return [self.challenge() for _ in range(count)]
