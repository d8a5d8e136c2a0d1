"""
Model files: the canonical bytes of a quantized model, and of its public weights.

Introduction
------------
A **model file** holds everything a model owner has (every layer's weights, the partitions, the
input and output scales); its identity is ``keccak256(file bytes)`` (:func:`model_file_hash`). A
**public weights file** is the same layout without the weights of the layers of sensitive
partitions (their headers stay): what the owner publishes, and all a challenger needs. Both are
pure bytes here; reading and writing files is :mod:`models.store`'s job.

Layout (version 1), every integer big-endian, as everywhere else in the protocol:

============  ==========================  ==================================================
size (bytes)  field                       rule
============  ==========================  ==================================================
7             magic                       ``b"OPZKMDL"`` (model file) or ``b"OPZKPUB"``
                                          (public weights file)
1             version                     ``1``
8             input_scale                 IEEE-754 binary64: eight zero bytes (``+0.0``) for
                                          "none", else finite and ``> 0``
8             output_scale                the same rule
4             L                           ``uint32``, number of layers, ``>= 1``
L × 14        layer headers               ``uint32 n ‖ uint32 m ‖ uint32 M ‖ uint8 k ‖
                                          uint8 activation`` (0 none, 1 relu)
4             P                           ``uint32``, number of partitions, ``>= 1``
P × 73        partitions                  ``uint32 first ‖ uint32 last ‖ uint8 sensitive
                                          (0 or 1) ‖ bytes32 weightCommitment ‖
                                          bytes32 setupId``
Σ m·(n + 4)   layer payloads, in layer    ``W`` as ``m·n`` int8 bytes, row-major (row ``j``
              order                       is output ``j``), then ``b`` as ``m`` ``int32``;
                                          a model file has one for every layer, a public
                                          weights file one for every layer *not* in a
                                          sensitive partition
============  ==========================  ==================================================

and nothing after the last payload. The headers and partitions come before the payloads (rather
than each layer's weights right after its header) so that one pass knows every payload's length,
checks the file's total length before it allocates anything, and can read the registry data
(headers, partitions) without the weights.

Decoding is strict: every file has exactly one encoding, and ``encode(decode(data)) == data`` for
every ``data`` that decodes. A wrong magic, an unknown version, a short or over-long file, a flag
byte other than 0 or 1, a scale that is negative, ``−0.0``, NaN or infinite, a model that breaks a
registry rule (:func:`protocol.model_id.validate_model_structure`) or whose accumulators can reach
``2^31`` for some int8 input (:func:`protocol.model.check_accumulator_bounds`) is refused, each
with its own :class:`ModelFileError` subclass. The scales are not part of the model id; they tell a
node how to turn float requests into int8 inputs (:func:`protocol.quantize.quantize_input`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from .exceptions import InvalidModelStructureError, InvalidWeightsError, ProtocolError
from .keccak import keccak256
from .model import QLinearLayer, QuantizedModel, check_accumulator_bounds
from .model_id import (
    LayerHeader,
    PartitionSpec,
    hidden_trace_indices,
    model_id,
    validate_model_structure,
)
from .requant import Activation
from .types import ZERO_HASH, Hash32, ModelId
from .weights import weight_root

MODEL_MAGIC: Final = b"OPZKMDL"
"""First seven bytes of a model file."""

PUBLIC_MAGIC: Final = b"OPZKPUB"
"""First seven bytes of a public weights file."""

MODEL_FILE_VERSION: Final = 1
"""The only version this module reads and writes."""

PREFIX_SIZE: Final = 7 + 1 + 8 + 8 + 4
"""Magic, version, both scales and the layer count."""

LAYER_HEADER_SIZE: Final = 4 + 4 + 4 + 1 + 1
PARTITION_SIZE: Final = 4 + 4 + 1 + 32 + 32

_HEADER = struct.Struct(">IIIBB")
_PARTITION_HEAD = struct.Struct(">IIB")
_SCALE = struct.Struct(">d")
_U32 = struct.Struct(">I")
_ABSENT_SCALE = bytes(8)


class ModelFileError(ProtocolError):
    """Bytes that are not a valid model file or public weights file."""


class BadMagicError(ModelFileError):
    """The bytes do not start with the expected magic."""


class UnsupportedVersionError(ModelFileError):
    """The version byte is not :data:`MODEL_FILE_VERSION`."""


class TruncatedModelFileError(ModelFileError):
    """The bytes end before the layout does."""


class TrailingBytesError(ModelFileError):
    """Bytes follow the last field of the layout."""


class NonCanonicalEncodingError(ModelFileError):
    """A field holds a value that no valid model encodes to (a flag byte, a scale)."""


class InvalidModelFileError(ModelFileError, InvalidModelStructureError):
    """The decoded model breaks a registry rule or the ``|z| < 2^31`` rule (see the cause)."""


@dataclass(frozen=True)
class PublicModel:
    """
    What a public weights file holds: every header, the weights of the public layers only.

    ``layers[ℓ−1]`` is layer ``ℓ`` for a public layer and ``None`` for a layer of a sensitive
    partition; ``headers`` always has all ``L`` headers.
    """

    headers: tuple[LayerHeader, ...]
    layers: tuple[QLinearLayer | None, ...]
    partitions: tuple[PartitionSpec, ...]
    input_scale: float | None = None
    output_scale: float | None = None

    def weight_roots(self) -> list[Hash32]:
        """Per layer: its weight root if public, ``bytes32(0)`` if sensitive."""
        return [
            ZERO_HASH if layer is None else weight_root(layer.weights, layer.biases)
            for layer in self.layers
        ]

    def model_id(self) -> ModelId:
        """The model's id; equal to the full model's :meth:`QuantizedModel.model_id`."""
        return model_id(list(self.headers), self.weight_roots(), list(self.partitions))

    def hidden_indices(self) -> frozenset[int]:
        """Trace positions strictly inside sensitive partitions."""
        return hidden_trace_indices(list(self.partitions))

    def public_layer(self, layer: int) -> QLinearLayer:
        """
        Layer ``layer`` (1..L), which must be public.

        Raises
        ------
        InvalidModelStructureError
            If the layer does not exist or belongs to a sensitive partition.
        """
        if not 1 <= layer <= len(self.layers):
            raise InvalidModelStructureError(
                f"no layer {layer} in a {len(self.layers)}-layer model"
            )
        found = self.layers[layer - 1]
        if found is None:
            raise InvalidModelStructureError(f"layer {layer} is sensitive: its weights are private")
        return found


def public_model(model: QuantizedModel) -> PublicModel:
    """
    Strip the weights of the layers of sensitive partitions.

    Parameters
    ----------
    model :
        The full model.

    Returns
    -------
    public : `PublicModel`
        The same headers, partitions and scales; ``None`` for every sensitive layer.
    """
    return PublicModel(
        headers=tuple(model.headers()),
        layers=tuple(
            None if model.is_sensitive_layer(number) else layer
            for number, layer in enumerate(model.layers, start=1)
        ),
        partitions=tuple(model.partitions),
        input_scale=model.input_scale,
        output_scale=model.output_scale,
    )


def encode_model(model: QuantizedModel) -> bytes:
    """
    Encode a model as a model file (magic ``OPZKMDL``).

    Parameters
    ----------
    model :
        A valid model: it passes :func:`protocol.model_id.validate_model_structure` and
        :func:`protocol.model.check_accumulator_bounds`, its weights are ``int8`` ``(m, n)``
        arrays, its biases integer ``(m,)`` arrays fitting ``int32``, its scales ``None`` or
        finite and positive.

    Returns
    -------
    data : `bytes`
        The canonical bytes; :func:`decode_model` gives the model back.

    Raises
    ------
    InvalidWeightsError
        If a layer's weights or biases have a wrong dtype, shape or range.
    InvalidModelStructureError
        If the model breaks a registry rule, a scale is invalid, or some int8 input drives an
        accumulator to ``|z| >= 2^31`` (:class:`protocol.model.AccumulatorRangeError`).
    """
    layers = list(model.layers)
    for number, layer in enumerate(layers, start=1):
        _check_layer_arrays(layer, number)
    validate_model_structure(model.headers(), model.weight_roots(), list(model.partitions))
    check_accumulator_bounds(layers)
    return _encode(
        MODEL_MAGIC,
        model.headers(),
        list(model.partitions),
        layers,
        model.input_scale,
        model.output_scale,
    )


def encode_public_weights(model: QuantizedModel | PublicModel) -> bytes:
    """
    Encode the public weights file of a model (magic ``OPZKPUB``).

    Parameters
    ----------
    model :
        The full model (its sensitive layers' weights are left out) or a :class:`PublicModel`;
        valid as for :func:`encode_model` (the accumulator rule is checked on public layers).

    Returns
    -------
    data : `bytes`
        The canonical bytes; :func:`decode_public_weights` gives the :class:`PublicModel` back.

    Raises
    ------
    InvalidWeightsError, InvalidModelStructureError
        As for :func:`encode_model`; also if a :class:`PublicModel` lacks a public layer's
        weights, holds a sensitive layer's, or has a header that disagrees with its layer.
    """
    public = public_model(model) if isinstance(model, QuantizedModel) else model
    headers = list(public.headers)
    partitions = list(public.partitions)
    if len(public.layers) != len(headers):
        raise InvalidModelStructureError(
            f"{len(public.layers)} layer entries for {len(headers)} headers"
        )
    sensitive = _sensitive_layers(partitions, len(headers))
    for number, (header, layer) in enumerate(zip(headers, public.layers, strict=True), start=1):
        if (layer is None) != (number in sensitive):
            raise InvalidModelStructureError(
                f"layer {number}: a public weights file holds the weights of exactly the "
                "layers outside sensitive partitions"
            )
        if layer is not None:
            _check_layer_arrays(layer, number)
            if layer.header() != header:
                raise InvalidModelStructureError(f"layer {number}: header disagrees with weights")
            check_accumulator_bounds([layer], first_layer=number)
    validate_model_structure(headers, public.weight_roots(), partitions)
    return _encode(
        PUBLIC_MAGIC,
        headers,
        partitions,
        [layer for layer in public.layers if layer is not None],
        public.input_scale,
        public.output_scale,
    )


def decode_model(data: bytes) -> QuantizedModel:
    """
    Decode a model file, strictly.

    Parameters
    ----------
    data :
        The file's bytes.

    Returns
    -------
    model : `QuantizedModel`
        The model, with read-only weight and bias arrays; ``encode_model(model) == data``.

    Raises
    ------
    BadMagicError
        If ``data`` does not start with ``b"OPZKMDL"``.
    UnsupportedVersionError
        If the version byte is not 1.
    TruncatedModelFileError
        If ``data`` ends early.
    TrailingBytesError
        If bytes follow the last payload.
    NonCanonicalEncodingError
        If an activation or sensitive flag is not 0 or 1, or a scale is not ``+0.0`` or finite
        and positive.
    InvalidModelFileError
        If the model breaks a registry rule or the ``|z| < 2^31`` rule.
    """
    _headers, partitions, layers, scales = _decode(data, MODEL_MAGIC)
    present = [layer for layer in layers if layer is not None]
    return QuantizedModel(
        layers=tuple(present),
        partitions=tuple(partitions),
        input_scale=scales[0],
        output_scale=scales[1],
    )


def decode_public_weights(data: bytes) -> PublicModel:
    """
    Decode a public weights file, strictly.

    Parameters
    ----------
    data :
        The file's bytes.

    Returns
    -------
    public : `PublicModel`
        Headers, partitions, scales, and the weights of the public layers (read-only arrays);
        ``encode_public_weights(public) == data``.

    Raises
    ------
    BadMagicError
        If ``data`` does not start with ``b"OPZKPUB"``.
    UnsupportedVersionError, TruncatedModelFileError, TrailingBytesError,
    NonCanonicalEncodingError, InvalidModelFileError
        As for :func:`decode_model`.
    """
    headers, partitions, layers, scales = _decode(data, PUBLIC_MAGIC)
    return PublicModel(
        headers=tuple(headers),
        layers=tuple(layers),
        partitions=tuple(partitions),
        input_scale=scales[0],
        output_scale=scales[1],
    )


def model_file_hash(data: bytes) -> Hash32:
    """
    A model file's identity: ``keccak256`` of its bytes.

    Parameters
    ----------
    data :
        The file's bytes (model file or public weights file); not decoded here.

    Returns
    -------
    digest : `Hash32`
        ``keccak256(data)``.
    """
    return keccak256(bytes(data))


# --------------------------------------------------------------------------------------------------
# Encoding


def _encode(
    magic: bytes,
    headers: Sequence[LayerHeader],
    partitions: Sequence[PartitionSpec],
    payload_layers: Sequence[QLinearLayer],
    input_scale: float | None,
    output_scale: float | None,
) -> bytes:
    out = bytearray(magic)
    out.append(MODEL_FILE_VERSION)
    out += _encode_scale(input_scale, "input_scale")
    out += _encode_scale(output_scale, "output_scale")
    out += _U32.pack(len(headers))
    for header in headers:
        out += _HEADER.pack(*header.as_abi_tuple())
    out += _U32.pack(len(partitions))
    for partition in partitions:
        out += _PARTITION_HEAD.pack(
            partition.first_layer, partition.last_layer, int(partition.sensitive)
        )
        out += bytes(partition.weight_commitment) + bytes(partition.setup_id)
    for layer in payload_layers:
        out += np.ascontiguousarray(layer.weights, dtype=np.int8).tobytes()
        out += layer.biases.astype(">i4").tobytes()
    return bytes(out)


def _check_layer_arrays(layer: QLinearLayer, number: int) -> None:
    """The dtype, shape and range rules of :mod:`protocol.weights`, for any layer."""
    weights, biases = layer.weights, layer.biases
    if not isinstance(weights, np.ndarray) or weights.dtype != np.int8 or weights.ndim != 2:
        raise InvalidWeightsError(f"layer {number}: weights must be a two-dimensional int8 array")
    if not isinstance(biases, np.ndarray) or not np.issubdtype(biases.dtype, np.integer):
        raise InvalidWeightsError(f"layer {number}: biases must be an integer array")
    if biases.shape != (weights.shape[0],):
        raise InvalidWeightsError(
            f"layer {number}: biases must have shape ({weights.shape[0]},), got {biases.shape}"
        )
    if biases.size and (int(biases.min()) < -(2**31) or int(biases.max()) > 2**31 - 1):
        raise InvalidWeightsError(f"layer {number}: biases must fit int32")


def _encode_scale(scale: float | None, what: str) -> bytes:
    if scale is None:
        return _ABSENT_SCALE
    if isinstance(scale, bool) or not isinstance(scale, (float, int)):
        raise InvalidModelStructureError(f"{what} must be a float or None, got {scale!r}")
    value = float(scale)
    if not math.isfinite(value) or value <= 0.0:
        raise InvalidModelStructureError(f"{what} must be finite and positive, got {scale!r}")
    return _SCALE.pack(value)


# --------------------------------------------------------------------------------------------------
# Decoding


_Scales = tuple[float | None, float | None]


def _decode(
    data: bytes, magic: bytes
) -> tuple[list[LayerHeader], list[PartitionSpec], list[QLinearLayer | None], _Scales]:
    """Parse and check everything; ``layers[ℓ−1]`` is ``None`` for an absent payload."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelFileError(f"a model file must be bytes, got {type(data).__name__}")
    data = bytes(data)
    kind = "model file" if magic == MODEL_MAGIC else "public weights file"
    if data[: len(magic)] != magic[: len(data)] or len(data) == 0:
        raise BadMagicError(f"not a {kind}: it must start with {magic!r}, got {data[:7]!r}")
    if len(data) > len(magic) and data[len(magic)] != MODEL_FILE_VERSION:
        raise UnsupportedVersionError(
            f"{kind} version {data[len(magic)]} is not supported (this reader knows version "
            f"{MODEL_FILE_VERSION})"
        )
    if len(data) < PREFIX_SIZE:
        raise TruncatedModelFileError(f"{kind} of {len(data)} bytes ends inside its prefix")
    scales = (_decode_scale(data[8:16], "input_scale"), _decode_scale(data[16:24], "output_scale"))
    (layer_count,) = _U32.unpack_from(data, 24)
    offset = PREFIX_SIZE

    _need(data, offset, layer_count * LAYER_HEADER_SIZE + 4, kind, "layer headers")
    headers: list[LayerHeader] = []
    for number in range(1, layer_count + 1):
        n, m, multiplier, shift, activation = _HEADER.unpack_from(data, offset)
        if activation not in (Activation.NONE, Activation.RELU):
            raise NonCanonicalEncodingError(
                f"layer {number}: activation byte must be 0 (none) or 1 (relu), got {activation}"
            )
        headers.append(LayerHeader(n, m, multiplier, shift, activation))
        offset += LAYER_HEADER_SIZE

    (partition_count,) = _U32.unpack_from(data, offset)
    offset += 4
    _need(data, offset, partition_count * PARTITION_SIZE, kind, "partitions")
    partitions: list[PartitionSpec] = []
    for number in range(partition_count):
        first, last, flag = _PARTITION_HEAD.unpack_from(data, offset)
        if flag not in (0, 1):
            raise NonCanonicalEncodingError(
                f"partition {number}: sensitive byte must be 0 or 1, got {flag}"
            )
        start = offset + _PARTITION_HEAD.size
        partitions.append(
            PartitionSpec(
                first,
                last,
                flag == 1,
                Hash32(data[start : start + 32]),
                Hash32(data[start + 32 : start + 64]),
            )
        )
        offset += PARTITION_SIZE

    # The payload lengths depend on which layers are sensitive, which is only defined for valid
    # partitions: check the structure first, with placeholder roots that agree with the partitions
    # (the real roots are checked once the weights are read).
    sensitive = _sensitive_layers(partitions, layer_count)
    placeholders = [
        ZERO_HASH if number in sensitive else _PLACEHOLDER_ROOT
        for number in range(1, layer_count + 1)
    ]
    _validate_structure(headers, placeholders, partitions)

    with_payload = [
        magic == MODEL_MAGIC or number not in sensitive for number in range(1, layer_count + 1)
    ]
    payload_size = sum(
        h.out_dim * (h.in_dim + 4) for h, has in zip(headers, with_payload, strict=True) if has
    )
    _need(data, offset, payload_size, kind, "layer payloads")
    if len(data) != offset + payload_size:
        raise TrailingBytesError(
            f"{kind} has {len(data) - offset - payload_size} bytes after its last payload"
        )

    layers: list[QLinearLayer | None] = []
    for header, has in zip(headers, with_payload, strict=True):
        if not has:
            layers.append(None)
            continue
        m, n = header.out_dim, header.in_dim
        weights = np.frombuffer(data, dtype=np.int8, count=m * n, offset=offset).reshape(m, n)
        offset += m * n
        biases = np.frombuffer(data, dtype=">i4", count=m, offset=offset).astype(np.int32)
        biases.flags.writeable = False
        offset += 4 * m
        layers.append(
            QLinearLayer(
                weights, biases, header.multiplier, header.shift, Activation(header.activation)
            )
        )

    roots = [
        ZERO_HASH
        if layer is None or number in sensitive
        else weight_root(layer.weights, layer.biases)
        for number, layer in enumerate(layers, start=1)
    ]
    _validate_structure(headers, roots, partitions)
    for number, layer in enumerate(layers, start=1):
        if layer is not None:
            try:
                check_accumulator_bounds([layer], first_layer=number)
            except InvalidModelStructureError as error:
                raise InvalidModelFileError(str(error)) from error
    return headers, partitions, layers, scales


_PLACEHOLDER_ROOT = Hash32(b"\x01" * 32)


def _validate_structure(
    headers: Sequence[LayerHeader], roots: Sequence[bytes], partitions: Sequence[PartitionSpec]
) -> None:
    try:
        validate_model_structure(headers, roots, partitions)
    except InvalidModelStructureError as error:
        raise InvalidModelFileError(str(error)) from error


def _decode_scale(raw: bytes, what: str) -> float | None:
    if raw == _ABSENT_SCALE:
        return None
    (value,) = _SCALE.unpack(raw)
    if not math.isfinite(value) or value <= 0.0:
        raise NonCanonicalEncodingError(
            f"{what} must be eight zero bytes (none) or a finite positive float64, got {value!r}"
        )
    return float(value)


def _need(data: bytes, offset: int, size: int, kind: str, what: str) -> None:
    if len(data) - offset < size:
        raise TruncatedModelFileError(
            f"{kind} of {len(data)} bytes ends inside its {what} "
            f"({size} bytes needed from offset {offset})"
        )


def _sensitive_layers(partitions: Sequence[PartitionSpec], layer_count: int) -> frozenset[int]:
    """Layers (1..L) covered by a sensitive partition."""
    return frozenset(
        number
        for partition in partitions
        if partition.sensitive
        for number in range(partition.first_layer, min(partition.last_layer, layer_count) + 1)
    )
