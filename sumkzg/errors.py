"""
The exceptions of the proof system, one hierarchy.

Every rejection by a verifier is a :class:`ProofRejected` subclass carrying a short reason, so a
caller can tell "this proof is wrong" (:class:`ProofRejected`) from "this machine is misconfigured"
(:class:`SetupError`) or "this prover was asked to prove something false" (:class:`WitnessError`).
"""


class SumKzgError(Exception):
    """Base of every error raised by :mod:`sumkzg`."""


class SetupError(SumKzgError):
    """The trusted setup file is missing, is not the pinned file, or fails its structure check."""


class ProofRejected(SumKzgError):  # noqa: N818 (the name is the API: a rejection, not a fault)
    """Base of every verifier rejection; the message is a short reason."""


class EncodingError(ProofRejected):
    """
    A proof or statement is not canonically encoded.

    Wrong length, a scalar ``>= r``, non-zero point padding, a coordinate ``>= p``, a point not on
    the curve or not in the prime-order subgroup.
    """


class TranscriptError(SumKzgError):
    """A transcript operation was called with an invalid argument (tag or data length)."""


class OpeningRejected(ProofRejected):
    """A multilinear KZG opening failed its consistency or pairing check."""


class WitnessError(SumKzgError):
    """The prover refuses: the statement is not satisfied by its own witness."""
