"""
Exceptions raised by the protocol rules.

Introduction
------------
Every error that a rule raises on bad input derives from
:class:`ProtocolError`, which is itself a :class:`ValueError`: the input
was malformed, not the code. One leaf per kind of bad input lets callers
(an HTTP handler, a CLI) catch exactly what they can report.
"""


class ProtocolError(ValueError):
    """
    Base class for input that breaks a protocol rule.
    """


class InvalidHashError(ProtocolError):
    """
    A value that must be a 32-byte hash is not one.
    """


class InvalidAddressError(ProtocolError):
    """
    A value that must be a checksummed 20-byte address is not one.
    """


class InvalidIntegerError(ProtocolError):
    """
    An integer does not fit the fixed-width type it is encoded as.
    """


class InvalidActivationError(ProtocolError):
    """
    An activation vector is not a sequence of int8 values.
    """


class EmptyTreeError(ProtocolError):
    """
    A Merkle tree was asked for with no leaves: it has no root.
    """


class InvalidProofIndexError(ProtocolError):
    """
    A Merkle proof was asked for a leaf index the tree does not have.
    """


class InvalidTraceError(ProtocolError):
    """
    A trace's vectors or hidden indices are inconsistent.
    """


class InvalidWeightsError(ProtocolError):
    """
    A layer's weights or biases have the wrong shape, dtype or range.
    """


class InvalidRequantParameterError(ProtocolError):
    """
    A requantization input is outside the range the protocol allows.
    """


class InvalidModelStructureError(ProtocolError):
    """
    A model's headers, weight roots and partitions break a registry rule.
    """
