"""
The public statements of the two proofs and their transcript bytes (docs/proof-system.md §5, §6).

Introduction
------------
:class:`RegistrationStatement` says "the chunks hashing to ``H_W`` hold an ``m×n`` int8 matrix and
an int32 bias"; :class:`InferenceStatement` says "the committed layer maps ``x`` to ``y``" for one
job of one model's partition, on one chain, for one verifier contract. Both are immutable and
validated on construction (:class:`StatementError`); :meth:`to_bytes` is the exact byte string the
transcript absorbs with tag ``0x00``, fixed-width big-endian fields::

    registration: chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ H_W (32) ‖ m (4) ‖ n (4)
    inference:    chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ modelId (32) ‖
                  partitionIndex (32) ‖ H_W (32) ‖ m (4) ‖ n (4) ‖ M (4) ‖ k (1) ‖
                  activation (1) ‖ x (n bytes) ‖ y (m bytes) ‖ jobId (32)

``x`` and ``y`` are stored as their raw two's-complement bytes (``bytes``), exactly as absorbed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from protocol.activations import Int8VectorLike, int8_array, int8_bytes
from protocol.exceptions import ProtocolError
from protocol.types import Address, to_address

from .errors import SumKzgError
from .layout import MULTIPLIER_LIMIT, Layout, LayoutError, LimbLayout
from .setup import SETUP_ID

UINT256_LIMIT = 2**256


class StatementError(SumKzgError, ValueError):
    """A statement field is malformed or out of range."""


def _uint(value: object, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatementError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise StatementError(f"{what} = {value} does not fit uint{bits}")
    return value


def _hash32(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise StatementError(f"{what} must be 32 bytes")
    return bytes(value)


def _address(value: object) -> Address:
    if not isinstance(value, (str, bytes)):
        raise StatementError(f"verifier must be an address, got {type(value).__name__}")
    try:
        return to_address(value, "verifier")
    except ProtocolError as error:
        raise StatementError(str(error)) from error


def _int8(value: object, length: int, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise StatementError(f"{what} must be raw int8 bytes (use from_values for other forms)")
    if len(value) != length:
        raise StatementError(f"{what} has {len(value)} values, expected {length}")
    return bytes(value)


def _signed(raw: bytes) -> tuple[int, ...]:
    return tuple(b - 256 if b > 127 else b for b in raw)


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def _statement_bytes(chain_id: int, verifier: str, setup_id: bytes, body: bytes) -> bytes:
    """
    ``chainid (32) ‖ verifier (20) ‖ setup_id (32) ‖ body``: the bytes a statement's ``to_bytes``
    returns, absorbed with tag ``0x00`` (docs/proof-system.md §6); ``setup_id`` is
    :data:`sumkzg.setup.SETUP_ID` for the real setup.
    """
    return (
        chain_id.to_bytes(32, "big")
        + _address_bytes(verifier)
        + _hash32(setup_id, "setup_id")
        + body
    )


@dataclass(frozen=True)
class RegistrationStatement:
    """
    What a registration (well-formedness) proof proves.

    Attributes
    ----------
    chain_id :
        The chain id (``uint256``).
    verifier :
        The verifier contract's address (normalized to its EIP-55 form).
    h_w :
        ``H_W = keccak256(C_W[0] ‖ … ‖ C_W[K_W−1])``.
    m, n :
        The layer's shape, ``1 <= m, n <= 65534`` with ``ℓ <= 24``.
    """

    chain_id: int
    verifier: str
    h_w: bytes
    m: int
    n: int
    layout: Layout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate and normalize every field."""
        _uint(self.chain_id, 256, "chain_id")
        object.__setattr__(self, "verifier", _address(self.verifier))
        object.__setattr__(self, "h_w", _hash32(self.h_w, "h_w"))
        try:
            object.__setattr__(self, "layout", Layout.of(self.m, self.n))
        except LayoutError as error:
            raise StatementError(str(error)) from error

    def to_bytes(self, setup_id: bytes = SETUP_ID) -> bytes:
        """The statement bytes absorbed with tag ``0x00``: see :func:`_statement_bytes`."""
        return _statement_bytes(
            self.chain_id,
            self.verifier,
            setup_id,
            self.h_w + self.m.to_bytes(4, "big") + self.n.to_bytes(4, "big"),
        )


@dataclass(frozen=True)
class InferenceStatement:
    """
    What an inference proof proves: the committed layer maps ``x`` to ``y``.

    Attributes
    ----------
    chain_id :
        The chain id (``uint256``).
    verifier :
        The verifier contract's address (normalized to its EIP-55 form).
    model_id :
        The model's id (32 bytes).
    partition_index :
        The sensitive partition's index in the model (``uint256``).
    h_w :
        The partition's weight commitment ``H_W``.
    m, n :
        The layer's shape.
    multiplier :
        ``M``, ``0 <= M < 2^31``.
    shift :
        ``k``, ``1 <= k <= 62``.
    activation :
        0 (none, ``lo = −128``) or 1 (relu, ``lo = 0``).
    x :
        The ``n`` int8 inputs as raw two's-complement bytes.
    y :
        The ``m`` int8 outputs as raw bytes; for relu every ``y_i ∈ [0, 127]``.
    job_id :
        The job id (``uint256``).
    """

    chain_id: int
    verifier: str
    model_id: bytes
    partition_index: int
    h_w: bytes
    m: int
    n: int
    multiplier: int
    shift: int
    activation: int
    x: bytes
    y: bytes
    job_id: int
    layout: LimbLayout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate and normalize every field."""
        _uint(self.chain_id, 256, "chain_id")
        object.__setattr__(self, "verifier", _address(self.verifier))
        object.__setattr__(self, "model_id", _hash32(self.model_id, "model_id"))
        _uint(self.partition_index, 256, "partition_index")
        object.__setattr__(self, "h_w", _hash32(self.h_w, "h_w"))
        try:
            object.__setattr__(self, "layout", LimbLayout.of(self.m, self.n, self.shift))
        except LayoutError as error:
            raise StatementError(str(error)) from error
        _uint(self.multiplier, 32, "multiplier")
        if self.multiplier >= MULTIPLIER_LIMIT:
            raise StatementError(f"multiplier {self.multiplier} is not below 2^31")
        if isinstance(self.activation, bool) or self.activation not in (0, 1):
            raise StatementError(f"activation must be 0 or 1, got {self.activation!r}")
        object.__setattr__(self, "activation", int(self.activation))
        object.__setattr__(self, "x", _int8(self.x, self.n, "x"))
        object.__setattr__(self, "y", _int8(self.y, self.m, "y"))
        if self.activation == 1 and any(b > 127 for b in self.y):
            raise StatementError("relu output y has a negative value")
        _uint(self.job_id, 256, "job_id")

    @staticmethod
    def from_values(
        *,
        chain_id: int,
        verifier: str | bytes,
        model_id: bytes,
        partition_index: int,
        h_w: bytes,
        multiplier: int,
        shift: int,
        activation: int,
        x: Int8VectorLike,
        y: Int8VectorLike,
        job_id: int,
    ) -> InferenceStatement:
        """
        Build a statement from int8 vectors in any form :func:`protocol.activations.int8_bytes`
        accepts; ``m`` and ``n`` are their lengths.

        Raises
        ------
        StatementError
            If a field is invalid.
        """
        try:
            raw_x = int8_bytes(x, "x")
            raw_y = int8_bytes(y, "y")
        except ProtocolError as error:
            raise StatementError(str(error)) from error
        return InferenceStatement(
            chain_id=chain_id,
            verifier=_address(verifier),
            model_id=model_id,
            partition_index=partition_index,
            h_w=h_w,
            m=len(raw_y),
            n=len(raw_x),
            multiplier=multiplier,
            shift=shift,
            activation=activation,
            x=raw_x,
            y=raw_y,
            job_id=job_id,
        )

    @property
    def x_values(self) -> tuple[int, ...]:
        """``x`` as signed integers."""
        return _signed(self.x)

    @property
    def y_values(self) -> tuple[int, ...]:
        """``y`` as signed integers."""
        return _signed(self.y)

    def x_array(self) -> npt.NDArray[np.int8]:
        """``x`` as an ``int8`` array."""
        return int8_array(self.x)

    def y_array(self) -> npt.NDArray[np.int8]:
        """``y`` as an ``int8`` array."""
        return int8_array(self.y)

    def to_bytes(self, setup_id: bytes = SETUP_ID) -> bytes:
        """The statement bytes absorbed with tag ``0x00``: see :func:`_statement_bytes`."""
        return _statement_bytes(
            self.chain_id,
            self.verifier,
            setup_id,
            self.model_id
            + self.partition_index.to_bytes(32, "big")
            + self.h_w
            + self.m.to_bytes(4, "big")
            + self.n.to_bytes(4, "big")
            + self.multiplier.to_bytes(4, "big")
            + self.shift.to_bytes(1, "big")
            + self.activation.to_bytes(1, "big")
            + self.x
            + self.y
            + self.job_id.to_bytes(32, "big"),
        )


def signed_values(raw: Sequence[int] | bytes) -> tuple[int, ...]:
    """Raw two's-complement bytes as signed integers."""
    return _signed(bytes(raw))
