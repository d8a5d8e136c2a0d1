"""Tests for protocol.modelfile: layout, round trips, strict decoding, public weights files."""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pytest

from protocol.exceptions import InvalidModelStructureError, InvalidWeightsError, ProtocolError
from protocol.keccak import keccak256
from protocol.model import AccumulatorRangeError, QLinearLayer, QuantizedModel, all_public
from protocol.model_id import PartitionSpec
from protocol.modelfile import (
    LAYER_HEADER_SIZE,
    MODEL_MAGIC,
    PARTITION_SIZE,
    PREFIX_SIZE,
    PUBLIC_MAGIC,
    BadMagicError,
    InvalidModelFileError,
    ModelFileError,
    NonCanonicalEncodingError,
    PublicModel,
    TrailingBytesError,
    TruncatedModelFileError,
    UnsupportedVersionError,
    decode_model,
    decode_public_weights,
    encode_model,
    encode_public_weights,
    model_file_hash,
    public_model,
)
from protocol.requant import Activation
from protocol.types import ZERO_HASH
from tests.unit.models.helpers import COMMITMENT, LIMIT, random_model, sensitive_model

TINY_LAYER = QLinearLayer(
    np.array([[1, -2]], dtype=np.int8), np.array([-3], dtype=np.int32), 5, 7, Activation.RELU
)
TINY = all_public([TINY_LAYER])
TINY_BYTES = bytes.fromhex(
    "4f505a4b4d444c01"  # "OPZKMDL", version 1
    + "00" * 8  # input_scale: none
    + "00" * 8  # output_scale: none
    + "00000001"  # L = 1
    + "00000002"
    + "00000001"
    + "00000005"
    + "07"
    + "01"  # n=2, m=1, M=5, k=7, relu
    + "00000001"  # P = 1
    + "00000001"
    + "00000001"
    + "00"
    + "00" * 32
    + "00" * 32  # 1..1 public
    + "01fe"  # W = [[1, -2]]
    + "fffffffd"  # b = [-3]
)
TINY_HASH = "ab966955ecf91f9e7d397e3d17380eb2b44e89eadb7b8806395c1b35f998a088"


def scaled(
    model: QuantizedModel, input_scale: float | None, output_scale: float | None
) -> QuantizedModel:
    return replace(model, input_scale=input_scale, output_scale=output_scale)


def assert_same_model(a: QuantizedModel, b: QuantizedModel) -> None:
    assert len(a.layers) == len(b.layers)
    for x, y in zip(a.layers, b.layers, strict=True):
        assert np.array_equal(x.weights, y.weights)
        assert np.array_equal(x.biases, y.biases)
        assert x.header() == y.header()
    assert a.partitions == b.partitions
    assert a.input_scale == b.input_scale
    assert a.output_scale == b.output_scale
    assert a.model_id() == b.model_id()


# --------------------------------------------------------------------------------------------------
# Layout and round trips


def test_tiny_model_has_the_documented_bytes_and_hash() -> None:
    assert encode_model(TINY) == TINY_BYTES
    assert model_file_hash(TINY_BYTES).hex() == TINY_HASH
    assert model_file_hash(TINY_BYTES) == keccak256(TINY_BYTES)
    assert_same_model(decode_model(TINY_BYTES), TINY)


def test_scales_are_big_endian_float64_and_zero_means_none() -> None:
    data = encode_model(scaled(TINY, 0.5, 3.0))
    assert data[8:16] == struct.pack(">d", 0.5)
    assert data[16:24] == struct.pack(">d", 3.0)
    decoded = decode_model(data)
    assert (decoded.input_scale, decoded.output_scale) == (0.5, 3.0)
    assert decode_model(TINY_BYTES).input_scale is None


@pytest.mark.parametrize("seed", range(4))
def test_round_trip_is_exact(seed: int) -> None:
    model = scaled(random_model(seed, (17, 9, 5, 3)), 1 / 127, 0.1 + seed)
    data = encode_model(model)
    decoded = decode_model(data)
    assert_same_model(decoded, model)
    assert encode_model(decoded) == data
    assert len(data) == PREFIX_SIZE + 3 * LAYER_HEADER_SIZE + 4 + PARTITION_SIZE + sum(
        m * (n + 4) for n, m in ((17, 9), (9, 5), (5, 3))
    )


def test_sensitive_model_file_keeps_all_weights() -> None:
    model = sensitive_model()
    data = encode_model(model)
    decoded = decode_model(data)
    assert_same_model(decoded, model)
    assert decoded.weight_roots()[1] == ZERO_HASH
    assert encode_model(decoded) == data


def test_decoded_arrays_are_read_only_int8_and_int32() -> None:
    layer = decode_model(encode_model(random_model(1, (6, 4)))).layers[0]
    assert layer.weights.dtype == np.int8 and layer.biases.dtype == np.int32
    with pytest.raises(ValueError, match="read-only"):
        layer.weights[0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        layer.biases[0] = 1


def test_hash_is_stable_across_encodings() -> None:
    model = random_model(9, (8, 8, 2))
    assert model_file_hash(encode_model(model)) == model_file_hash(encode_model(model))
    other = random_model(10, (8, 8, 2))
    assert model_file_hash(encode_model(model)) != model_file_hash(encode_model(other))


# --------------------------------------------------------------------------------------------------
# Strict decoding


def patched(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


HEADER_AT = PREFIX_SIZE  # first layer header
NO_LAYERS = TINY_BYTES[:24] + struct.pack(">I", 0) + TINY_BYTES[PREFIX_SIZE + LAYER_HEADER_SIZE :]
PARTITIONS_AT = PREFIX_SIZE + LAYER_HEADER_SIZE + 4  # first partition of TINY


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", BadMagicError),
        (b"OPZKPUB\x01" + TINY_BYTES[8:], BadMagicError),
        (b"XPZKMDL\x01" + TINY_BYTES[8:], BadMagicError),
        (b"opzkmdl\x01" + TINY_BYTES[8:], BadMagicError),
        (patched(TINY_BYTES, 7, b"\x02"), UnsupportedVersionError),
        (patched(TINY_BYTES, 7, b"\x00"), UnsupportedVersionError),
        (MODEL_MAGIC + b"\x02", UnsupportedVersionError),  # before any length check
        (TINY_BYTES + b"\x00", TrailingBytesError),
        (TINY_BYTES[:-1], TruncatedModelFileError),
        (MODEL_MAGIC, TruncatedModelFileError),
        (b"OPZ", TruncatedModelFileError),
        # flag bytes
        (patched(TINY_BYTES, HEADER_AT + 13, b"\x02"), NonCanonicalEncodingError),
        (patched(TINY_BYTES, HEADER_AT + 13, b"\xff"), NonCanonicalEncodingError),
        (patched(TINY_BYTES, PARTITIONS_AT + 8, b"\x02"), NonCanonicalEncodingError),
        # scales
        (patched(TINY_BYTES, 8, struct.pack(">d", -0.0)), NonCanonicalEncodingError),
        (patched(TINY_BYTES, 8, struct.pack(">d", -1.0)), NonCanonicalEncodingError),
        (patched(TINY_BYTES, 16, struct.pack(">d", float("nan"))), NonCanonicalEncodingError),
        (patched(TINY_BYTES, 16, struct.pack(">d", float("inf"))), NonCanonicalEncodingError),
        # registry rules
        (patched(TINY_BYTES, HEADER_AT + 8, struct.pack(">I", 2**31)), InvalidModelFileError),
        (patched(TINY_BYTES, HEADER_AT + 12, b"\x00"), InvalidModelFileError),  # k = 0
        (patched(TINY_BYTES, HEADER_AT + 12, b"\x3f"), InvalidModelFileError),  # k = 63
        (NO_LAYERS, InvalidModelFileError),
        (patched(TINY_BYTES, PARTITIONS_AT + 4, struct.pack(">I", 2)), InvalidModelFileError),
        (patched(TINY_BYTES, PARTITIONS_AT + 9, b"\x01"), InvalidModelFileError),  # commitment
        (patched(TINY_BYTES, PARTITIONS_AT + 8, b"\x01"), InvalidModelFileError),  # no commitment
        # huge counts are caught by the length check, before any allocation
        (patched(TINY_BYTES, 24, struct.pack(">I", 2**32 - 1)), TruncatedModelFileError),
        (patched(TINY_BYTES, HEADER_AT + 4, struct.pack(">I", 2**32 - 1)), TruncatedModelFileError),
    ],
)
def test_bad_model_files_are_rejected(data: bytes, error: type[ModelFileError]) -> None:
    with pytest.raises(error):
        decode_model(data)


def test_every_truncation_is_rejected() -> None:
    data = encode_model(sensitive_model())
    for end in range(len(data)):
        with pytest.raises((TruncatedModelFileError, BadMagicError)):
            decode_model(data[:end])


def test_zero_partitions_and_mismatched_widths_are_rejected() -> None:
    two = encode_model(random_model(2, (4, 3, 2)))
    partitions_at = PREFIX_SIZE + 2 * LAYER_HEADER_SIZE
    no_partitions = two[:partitions_at] + struct.pack(">I", 0) + two[partitions_at + 4 + 73 :]
    with pytest.raises(InvalidModelFileError, match="at least one partition"):
        decode_model(no_partitions)
    # layer 2 claims n = 4 although layer 1 has m = 3 (the payload length follows the header)
    wrong = patched(two, PREFIX_SIZE + LAYER_HEADER_SIZE, struct.pack(">I", 4))
    with pytest.raises(InvalidModelFileError, match="in_dim"):
        decode_model(wrong + b"\x00" * 2)


def test_accumulator_rule_is_checked_on_decode() -> None:
    # b = 2^31 - 1 - 3·128 puts the worst case |z| of [[1, -2]] at exactly 2^31 - 1 + 1.
    edge = 2**31 - 1 - (1 * 127 + 2 * 128)
    ok = patched(TINY_BYTES, len(TINY_BYTES) - 4, struct.pack(">i", edge))
    assert decode_model(ok).layers[0].biases[0] == edge
    bad = patched(TINY_BYTES, len(TINY_BYTES) - 4, struct.pack(">i", edge + 1))
    with pytest.raises(InvalidModelFileError, match="layer 1") as caught:
        decode_model(bad)
    assert isinstance(caught.value.__cause__, AccumulatorRangeError)
    assert caught.value.__cause__.bound == 2**31


def test_errors_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        decode_model(b"junk")
    with pytest.raises(InvalidModelStructureError, match="at least one layer"):
        decode_model(NO_LAYERS[: -(2 + 4)])
    with pytest.raises(ModelFileError):
        decode_model("not bytes")  # type: ignore[arg-type]


def test_random_byte_changes_either_fail_or_re_encode_identically() -> None:
    data = encode_model(scaled(sensitive_model(), 0.25, 2.0))
    rng = np.random.default_rng(3)
    outcomes = {"rejected": 0, "accepted": 0}
    for _ in range(600):
        offset = int(rng.integers(0, len(data)))
        value = int(rng.integers(0, 256))
        mutated = patched(data, offset, bytes([value]))
        try:
            decoded = decode_model(mutated)
        except ModelFileError:
            outcomes["rejected"] += 1
            continue
        outcomes["accepted"] += 1
        assert encode_model(decoded) == mutated
    assert outcomes["rejected"] > 50 and outcomes["accepted"] > 50


# --------------------------------------------------------------------------------------------------
# Encoding refuses invalid models


def test_encode_refuses_invalid_models() -> None:
    with pytest.raises(InvalidModelStructureError, match="input_scale"):
        encode_model(scaled(TINY, -1.0, None))
    with pytest.raises(InvalidModelStructureError, match="output_scale"):
        encode_model(scaled(TINY, None, float("nan")))
    wide = QLinearLayer(
        TINY_LAYER.weights.astype(np.int16), TINY_LAYER.biases, 5, 7, Activation.NONE
    )
    with pytest.raises(InvalidWeightsError):
        encode_model(all_public([wide]))
    hot = QLinearLayer(TINY_LAYER.weights, np.array([LIMIT], np.int32), 5, 7, Activation.NONE)
    with pytest.raises(AccumulatorRangeError, match="layer 1"):
        encode_model(all_public([hot]))
    bad_k = QLinearLayer(TINY_LAYER.weights, TINY_LAYER.biases, 5, 0, Activation.NONE)
    with pytest.raises(InvalidModelStructureError, match="shift"):
        encode_model(all_public([bad_k]))


def test_encode_checks_sensitive_layers_too() -> None:
    model = sensitive_model()
    layer = model.layers[1]
    wrong = QLinearLayer(
        layer.weights.astype(np.int16),
        layer.biases,
        layer.multiplier,
        layer.shift,
        layer.activation,
    )
    with pytest.raises(InvalidWeightsError, match="layer 2"):
        encode_model(replace(model, layers=(model.layers[0], wrong, *model.layers[2:])))


# --------------------------------------------------------------------------------------------------
# Public weights files


def test_public_weights_file_drops_sensitive_weights() -> None:
    model = sensitive_model()
    data = encode_public_weights(model)
    assert data[:7] == PUBLIC_MAGIC
    public = decode_public_weights(data)
    assert [layer is None for layer in public.layers] == [False, True, True, False]
    assert public.headers == tuple(model.headers())
    assert public.model_id() == model.model_id()
    assert public.weight_roots() == model.weight_roots()
    assert public.hidden_indices() == model.hidden_indices()
    assert public.input_scale == 0.25
    assert encode_public_weights(public) == data
    full = encode_model(model)
    dropped = sum(layer.out_dim * (layer.in_dim + 4) for layer in model.layers[1:3])
    assert len(data) == len(full) - dropped
    assert np.array_equal(public.public_layer(4).weights, model.layers[3].weights)
    with pytest.raises(InvalidModelStructureError, match="sensitive"):
        public.public_layer(2)
    with pytest.raises(InvalidModelStructureError, match="no layer"):
        public.public_layer(5)


def test_all_public_model_public_file_equals_model_file_but_magic() -> None:
    model = random_model(4, (5, 4, 3))
    assert encode_public_weights(model) == PUBLIC_MAGIC + encode_model(model)[7:]


def test_public_and_model_files_are_not_interchangeable() -> None:
    model = sensitive_model()
    with pytest.raises(BadMagicError):
        decode_public_weights(encode_model(model))
    with pytest.raises(BadMagicError):
        decode_model(encode_public_weights(model))


def test_public_weights_file_rejects_sensitive_payloads_and_truncation() -> None:
    model = sensitive_model()
    data = encode_public_weights(model)
    with pytest.raises(TrailingBytesError):
        decode_public_weights(data + b"\x00")
    with pytest.raises(TruncatedModelFileError):
        decode_public_weights(data[:-1])
    # The same bytes with the partition flipped to public would need layers 2..3's weights.
    partitions_at = PREFIX_SIZE + 4 * LAYER_HEADER_SIZE + 4
    flag_at = partitions_at + PARTITION_SIZE + 8
    public_flag = patched(data, flag_at, b"\x00")
    with pytest.raises(InvalidModelFileError):
        decode_public_weights(public_flag)


def test_encode_public_weights_checks_a_public_model() -> None:
    model = sensitive_model()
    public = public_model(model)
    leaking = PublicModel(
        public.headers, tuple(model.layers), public.partitions, public.input_scale
    )
    with pytest.raises(InvalidModelStructureError, match="exactly the layers"):
        encode_public_weights(leaking)
    missing = PublicModel(public.headers, (None, *public.layers[1:]), public.partitions)
    with pytest.raises(InvalidModelStructureError, match="exactly the layers"):
        encode_public_weights(missing)
    short = PublicModel(public.headers, public.layers[:3], public.partitions)
    with pytest.raises(InvalidModelStructureError, match="layer entries"):
        encode_public_weights(short)
    swapped_headers = (public.headers[3], *public.headers[1:3], public.headers[0])
    with pytest.raises(InvalidModelStructureError):
        encode_public_weights(PublicModel(swapped_headers, public.layers, public.partitions))


def test_sensitive_partition_needs_a_commitment_in_both_files() -> None:
    model = sensitive_model()
    partitions = list(model.partitions)
    partitions[1] = PartitionSpec(2, 3, True, ZERO_HASH, ZERO_HASH)
    broken = replace(model, partitions=tuple(partitions))
    with pytest.raises(InvalidModelStructureError, match="weight commitment"):
        encode_model(broken)
    with pytest.raises(InvalidModelStructureError, match="weight commitment"):
        encode_public_weights(broken)
    data = encode_public_weights(model)
    commitment_at = PREFIX_SIZE + 4 * LAYER_HEADER_SIZE + 4 + PARTITION_SIZE + 9
    assert data[commitment_at : commitment_at + 32] == COMMITMENT
    with pytest.raises(InvalidModelFileError, match="weight commitment"):
        decode_public_weights(patched(data, commitment_at, ZERO_HASH))
