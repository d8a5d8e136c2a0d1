"""Tests for protocol.model_id."""

import pytest

from protocol.exceptions import InvalidIntegerError, InvalidModelStructureError
from protocol.keccak import keccak256
from protocol.model_id import (
    MODEL_DOMAIN,
    LayerHeader,
    PartitionSpec,
    hidden_trace_indices,
    model_id,
    validate_model_structure,
)
from protocol.requant import Activation
from protocol.types import ZERO_HASH
from tests.unit.protocol import reference

ROOT = keccak256(b"weight root")
COMMITMENT = keccak256(b"commitment")
SETUP = keccak256(b"setup")


def public(first: int, last: int) -> PartitionSpec:
    return PartitionSpec(first, last, False, ZERO_HASH, ZERO_HASH)


def sensitive(first: int, last: int) -> PartitionSpec:
    return PartitionSpec(first, last, True, COMMITMENT, SETUP)


HEADERS = [
    LayerHeader(8, 6, 12345, 20, Activation.RELU),
    LayerHeader(6, 5, 2**31 - 1, 62, Activation.RELU),
    LayerHeader(5, 4, 0, 1, Activation.RELU),
    LayerHeader(4, 2, 777, 9, Activation.NONE),
]
ROOTS = [ROOT, ZERO_HASH, ZERO_HASH, keccak256(b"last")]
PARTS = [public(1, 1), sensitive(2, 3), public(4, 4)]


def test_domain() -> None:
    assert keccak256(b"opzk.model.v1") == MODEL_DOMAIN


def test_model_id_matches_hand_encoding() -> None:
    assert model_id(HEADERS, ROOTS, PARTS) == reference.model_id(HEADERS, ROOTS, PARTS)
    one = [LayerHeader(3, 2, 5, 7, Activation.NONE)]
    assert model_id(one, [ROOT], [public(1, 1)]) == reference.model_id(one, [ROOT], [public(1, 1)])


def test_model_id_depends_on_every_part() -> None:
    base = model_id(HEADERS, ROOTS, PARTS)
    other_header = [LayerHeader(8, 6, 12346, 20, Activation.RELU), *HEADERS[1:]]
    assert model_id(other_header, ROOTS, PARTS) != base
    assert model_id(HEADERS, [keccak256(b"x"), *ROOTS[1:]], PARTS) != base
    other_setup = [PARTS[0], PartitionSpec(2, 3, True, COMMITMENT, ZERO_HASH), PARTS[2]]
    assert model_id(HEADERS, ROOTS, other_setup) != base


def test_abi_tuples() -> None:
    assert HEADERS[0].as_abi_tuple() == (8, 6, 12345, 20, 1)
    assert PARTS[1].as_abi_tuple() == (2, 3, True, COMMITMENT, SETUP)


def test_hidden_trace_indices() -> None:
    assert hidden_trace_indices(PARTS) == frozenset({2})
    assert hidden_trace_indices([public(1, 4)]) == frozenset()
    assert hidden_trace_indices([sensitive(1, 1), sensitive(2, 5)]) == frozenset({2, 3, 4})
    assert hidden_trace_indices([sensitive(1, 3), public(4, 4)]) == frozenset({1, 2})


def replace_header(index: int, **changes: int) -> list[LayerHeader]:
    h = HEADERS[index]
    fields = {
        "in_dim": h.in_dim,
        "out_dim": h.out_dim,
        "multiplier": h.multiplier,
        "shift": h.shift,
        "activation": h.activation,
        **changes,
    }
    headers = list(HEADERS)
    headers[index] = LayerHeader(**fields)
    return headers


INVALID = [
    ("at least one layer", [], [], PARTS),
    ("dimensions", replace_header(0, in_dim=0), ROOTS, PARTS),
    ("dimensions", replace_header(3, out_dim=0), ROOTS, PARTS),
    ("in_dim 7 != layer 1 out_dim 6", replace_header(1, in_dim=7), ROOTS, PARTS),
    ("multiplier", replace_header(0, multiplier=2**31), ROOTS, PARTS),
    ("shift", replace_header(0, shift=0), ROOTS, PARTS),
    ("shift", replace_header(0, shift=63), ROOTS, PARTS),
    ("activation", replace_header(0, activation=2), ROOTS, PARTS),
    ("3 weight roots for 4 layers", HEADERS, ROOTS[:3], PARTS),
    ("32 bytes", HEADERS, [ROOT[:31], *ROOTS[1:]], PARTS),
    ("at least one partition", HEADERS, ROOTS, []),
    ("starts at layer 2, expected 1", HEADERS, ROOTS, PARTS[1:]),
    ("starts at layer 4, expected 3", HEADERS, ROOTS, [public(1, 1), sensitive(2, 2), PARTS[2]]),
    ("starts at layer 2, expected 5", HEADERS, ROOTS, [*PARTS, public(2, 4)]),
    ("last_layer < first_layer", HEADERS, ROOTS, [public(1, 1), sensitive(2, 1)]),
    ("ends at layer 5 of 4", HEADERS, ROOTS, [PARTS[0], PARTS[1], public(4, 5)]),
    ("cover layers 1..3, not 1..4", HEADERS, ROOTS, PARTS[:2]),
    (
        "sensitive partition needs a weight commitment",
        HEADERS,
        ROOTS,
        [PARTS[0], PartitionSpec(2, 3, True, ZERO_HASH, SETUP), PARTS[2]],
    ),
    ("zero weight roots", HEADERS, [ROOT, ROOT, ZERO_HASH, ROOTS[3]], PARTS),
    (
        "public partition has zero weight_commitment",
        HEADERS,
        ROOTS,
        [PartitionSpec(1, 1, False, COMMITMENT, ZERO_HASH), *PARTS[1:]],
    ),
    (
        "public partition has zero weight_commitment and setup_id",
        HEADERS,
        ROOTS,
        [PartitionSpec(1, 1, False, ZERO_HASH, SETUP), *PARTS[1:]],
    ),
    ("needs a weight root", HEADERS, [ZERO_HASH, *ROOTS[1:]], PARTS),
    ("not a LayerHeader", [(8, 6, 1, 1, 1)], [ROOT], [public(1, 1)]),
    ("not a PartitionSpec", HEADERS, ROOTS, [(1, 4, False, ZERO_HASH, ZERO_HASH)]),
]


@pytest.mark.parametrize(("message", "headers", "roots", "parts"), INVALID)
def test_invalid_models_are_rejected(
    message: str, headers: list[LayerHeader], roots: list[bytes], parts: list[PartitionSpec]
) -> None:
    with pytest.raises(InvalidModelStructureError, match=message.replace("(", r"\(")):
        validate_model_structure(headers, roots, parts)
    with pytest.raises(InvalidModelStructureError):
        model_id(headers, roots, parts)


def test_valid_models_pass() -> None:
    validate_model_structure(HEADERS, ROOTS, PARTS)
    validate_model_structure(HEADERS, [ZERO_HASH] * 4, [sensitive(1, 2), sensitive(3, 4)])
    validate_model_structure(HEADERS, [ROOT] * 4, [public(1, 4)])
    # A sensitive partition's setup id may be zero; only its commitment must be set.
    validate_model_structure(
        HEADERS[:1], [ZERO_HASH], [PartitionSpec(1, 1, True, COMMITMENT, ZERO_HASH)]
    )


def test_dataclasses_check_abi_widths() -> None:
    with pytest.raises(InvalidIntegerError):
        LayerHeader(2**32, 1, 1, 1, 0)
    with pytest.raises(InvalidIntegerError):
        LayerHeader(1, 1, 2**32, 1, 0)
    with pytest.raises(InvalidIntegerError):
        LayerHeader(1, 1, 1, 256, 0)
    with pytest.raises(InvalidIntegerError):
        LayerHeader(1, 1, 1, 1, -1)
    with pytest.raises(InvalidIntegerError):
        PartitionSpec(-1, 1, False, ZERO_HASH, ZERO_HASH)
    with pytest.raises(InvalidModelStructureError, match="bool"):
        PartitionSpec(1, 1, 1, ZERO_HASH, ZERO_HASH)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="setup_id"):
        PartitionSpec(1, 1, False, ZERO_HASH, bytes(31))  # type: ignore[arg-type]
