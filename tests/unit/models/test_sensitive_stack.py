"""
models.sensitive for two-layer partitions: the stack's matrices P and V, its commitment
H_S = keccak256(H_P ‖ H_V), the split of the partitions, the sidecar (format v2) and the refusals.
"""

from __future__ import annotations

import json
import random
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.digits import MODEL_PATH
from models.sensitive import (
    SIDECAR_FORMAT,
    SIDECAR_FORMAT_STACK,
    SensitiveModelError,
    SidecarError,
    StackCommitment,
    check_commitment,
    commitment_hash,
    load_sidecar,
    make_sensitive,
    make_sensitive_stack,
    partition_headers_abi,
    sensitive_layer,
    sensitive_layers,
    sidecar_path,
    stack_weights,
    write_sidecar,
)
from models.store import load_model, save_model
from protocol.keccak import keccak256
from protocol.model import QLinearLayer, QuantizedModel, all_public, forward_trace
from protocol.model_id import PartitionSpec
from protocol.requant import Activation
from protocol.types import ZERO_HASH
from sumkzg import SETUP_ID, Setup, commit_weights, load_setup


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def digits() -> QuantizedModel:
    return load_model(MODEL_PATH)


@pytest.fixture(scope="module")
def stacked(digits: QuantizedModel, setup: Setup) -> tuple[QuantizedModel, StackCommitment]:
    """Layers 1–2 of digits (64→64 relu, 64→32 relu) as one two-layer partition."""
    return make_sensitive_stack(digits, 1, setup, rng=random.Random(12))


def test_layers_1_and_2_of_digits_become_one_two_layer_partition(
    digits: QuantizedModel, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    # H_S = keccak256(H_P ‖ H_V) names the partition; the model's layers and outputs are unchanged.
    h_s = keccak256(commitment.p.h_w + commitment.v.h_w)
    assert commitment.h_s == commitment_hash(commitment) == h_s
    assert model.partitions == (
        PartitionSpec(1, 2, True, h_s, SETUP_ID),  # type: ignore[arg-type]
        PartitionSpec(3, 3, False, ZERO_HASH, ZERO_HASH),
    )
    assert all(
        np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
        for a, b in zip(model.layers, digits.layers, strict=True)
    )
    x = np.arange(-32, 32, dtype=np.int8)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(forward_trace(model, x), forward_trace(digits, x), strict=True)
    )
    # The intermediate activation h_1 is hidden; both private layers' roots are zero.
    assert model.hidden_indices() == frozenset({1})
    assert model.weight_roots()[:2] == [ZERO_HASH, ZERO_HASH]
    assert model.weight_roots()[2] == digits.weight_roots()[2]
    assert model.model_id() != digits.model_id()
    # P is (m1 + 4) × n1 = 68×64, V is (n2 + 4) × m2 = 68×32, under the pinned setup.
    assert commitment.shapes() == ((68, 64), (68, 32))
    assert commitment.setup_id == SETUP_ID
    assert sensitive_layers(model, 0) == model.layers[:2]
    check_commitment(model, 0, commitment)
    headers = partition_headers_abi(model, 0)
    assert len(headers) == 32 * 2 + 2 * 32 * 5
    # The commitments are sumkzg's over S1's matrices, with the blinding drawn P first, then V.
    rng = random.Random(12)
    (p_w, p_b), (v_w, v_b) = stack_weights((digits.layers[0], digits.layers[1]))
    assert commit_weights(setup, p_w, p_b, rng=rng) == commitment.p
    assert commit_weights(setup, v_w, v_b, rng=rng) == commitment.v


def test_the_stack_matrices_are_s1s(digits: QuantizedModel) -> None:
    first, second = digits.layers[0], digits.layers[1]
    (p_w, p_b), (v_w, v_b) = stack_weights((first, second))
    assert p_w.dtype == np.int8 and v_w.dtype == np.int8
    assert p_w.shape == (68, 64) and p_b.shape == (68,)
    assert np.array_equal(p_w[:64], first.weights) and not p_w[64:].any()
    assert np.array_equal(p_b[:64], first.biases) and not p_b[64:].any()
    assert v_w.shape == (68, 32) and v_b.shape == (68,) and not v_b.any()
    assert np.array_equal(v_w[:64], second.weights.T)
    rebuilt = sum(
        (v_w[64 + t].astype(np.int64) + 128) << (8 * t) for t in range(4)
    ) - 2**31  # fmt: skip
    assert np.array_equal(rebuilt, second.biases.astype(np.int64))


def test_without_rng_the_blinding_is_fresh(digits: QuantizedModel, setup: Setup) -> None:
    a, ca = make_sensitive_stack(digits, 2, setup)
    b, cb = make_sensitive_stack(digits, 2, setup)
    assert ca.h_s != cb.h_s and ca.p.blinding != cb.p.blinding and ca.v.blinding != cb.v.blinding
    assert a.model_id() != b.model_id()
    assert [(p.first_layer, p.last_layer, p.sensitive) for p in a.partitions] == [
        (1, 1, False),
        (2, 3, True),
    ]


def test_the_stack_may_span_two_public_partitions(digits: QuantizedModel, setup: Setup) -> None:
    split = QuantizedModel(
        layers=digits.layers,
        partitions=(
            PartitionSpec(1, 1, False, ZERO_HASH, ZERO_HASH),
            PartitionSpec(2, 3, False, ZERO_HASH, ZERO_HASH),
        ),
    )
    model, commitment = make_sensitive_stack(split, 1, setup, rng=random.Random(3))
    assert [(p.first_layer, p.last_layer, p.sensitive) for p in model.partitions] == [
        (1, 2, True),
        (3, 3, False),
    ]
    assert model.partitions[0].weight_commitment == commitment.h_s
    from protocol.modelfile import decode_model, encode_model

    assert decode_model(encode_model(model)).model_id() == model.model_id()


def test_refusals_are_clear_and_change_nothing(digits: QuantizedModel, setup: Setup) -> None:
    before = digits.model_id()
    for first in (0, 3, -1):
        with pytest.raises(SensitiveModelError, match=f"layers {first}..{first + 1} are not two"):
            make_sensitive_stack(digits, first, setup)
    with pytest.raises(SensitiveModelError, match="must be an int"):
        make_sensitive_stack(digits, True, setup)
    one, _ = make_sensitive(digits, 2, setup, rng=random.Random(3))
    for first in (1, 2):
        with pytest.raises(
            SensitiveModelError, match="layer 2 is already in sensitive partition 1"
        ):
            make_sensitive_stack(one, first, setup)
    # Too wide to be a stack: m1 + 4 = 2049 rows needs m' = 4096 (S1 refuses m1 + 4 > 2048).
    wide = QLinearLayer(
        np.zeros((2045, 2), dtype=np.int8), np.zeros(2045, dtype=np.int32), 1, 8, Activation.RELU
    )
    narrow = QLinearLayer(
        np.zeros((2, 2045), dtype=np.int8), np.zeros(2, dtype=np.int32), 1, 8, Activation.NONE
    )
    with pytest.raises(SensitiveModelError, match=r"layers 1\.\.2 cannot be proven as one stack"):
        make_sensitive_stack(all_public([wide, narrow]), 1, setup)
    assert digits.model_id() == before


def test_layers_of_a_partition(
    digits: QuantizedModel, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    with pytest.raises(SensitiveModelError, match=r"covers layers 1\.\.2: it is a two-layer"):
        sensitive_layer(model, 0)
    with pytest.raises(SensitiveModelError, match="partition 1 is public"):
        sensitive_layers(model, 1)
    three = QuantizedModel(
        layers=digits.layers,
        partitions=(PartitionSpec(1, 3, True, commitment.h_s, SETUP_ID),),  # type: ignore[arg-type]
    )
    with pytest.raises(SensitiveModelError, match=r"covers layers 1\.\.3: sensitive partitions"):
        sensitive_layers(three, 0)


def test_a_commitment_of_the_wrong_kind_or_stack_is_refused(
    digits: QuantizedModel, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    _, single = make_sensitive(digits, 1, setup, rng=random.Random(4))
    with pytest.raises(SensitiveModelError, match=r"is a two-layer stack .*one layer's"):
        check_commitment(model, 0, single)
    one, one_commitment = make_sensitive(digits, 3, setup, rng=random.Random(4))
    with pytest.raises(SensitiveModelError, match="is one layer; the commitment is a two-layer"):
        check_commitment(one, 1, commitment)
    _, other = make_sensitive_stack(digits, 1, setup, rng=random.Random(5))
    with pytest.raises(SensitiveModelError, match="the commitment's H_S 0x"):
        check_commitment(model, 0, other)
    with pytest.raises(SensitiveModelError, match="different setups"):
        StackCommitment(commitment.p, replace(commitment.v, setup_id=b"\x01" * 32))
    with pytest.raises(SensitiveModelError, match="are not one stack's"):
        StackCommitment(commitment.p, one_commitment)


# --------------------------------------------------------------------------------------------------
# The sidecar


def test_a_stack_sidecar_round_trips_in_format_v2(
    tmp_path: Path, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    path = tmp_path / "digits-stack.opzkmodel"
    save_model(model, path)
    written = write_sidecar(path, model, commitment)
    assert written == sidecar_path(path)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert load_sidecar(path, load_model(path)) == {0: commitment}
    document = json.loads(written.read_text())
    assert document["format"] == SIDECAR_FORMAT_STACK
    (entry,) = document["partitions"]
    assert (entry["partition"], entry["layer"], entry["last_layer"]) == (0, 1, 2)
    assert set(entry["stack"]) == {"p", "v"}
    assert entry["stack"]["p"]["h_w"] == "0x" + commitment.p.h_w.hex()
    assert "commitment" not in entry


def test_a_sidecar_of_one_layer_and_a_stack(
    tmp_path: Path, setup: Setup, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    base, stack = stacked
    model, single = make_sensitive(base, 3, setup, rng=random.Random(6))
    path = tmp_path / "both.opzkmodel"
    with pytest.raises(
        SensitiveModelError, match=r"no commitment for sensitive partition\(s\) \[1"
    ):
        write_sidecar(path, model, stack)
    write_sidecar(path, model, {0: stack, 1: single})
    assert load_sidecar(path, model) == {0: stack, 1: single}
    document = json.loads(sidecar_path(path).read_text())
    assert document["format"] == SIDECAR_FORMAT_STACK
    assert [sorted(e) for e in document["partitions"]] == [
        ["last_layer", "layer", "partition", "stack"],
        ["commitment", "layer", "partition"],
    ]


def test_a_one_layer_sidecar_stays_v1(tmp_path: Path, digits: QuantizedModel, setup: Setup) -> None:
    model, commitment = make_sensitive(digits, 2, setup, rng=random.Random(7))
    path = tmp_path / "one.opzkmodel"
    write_sidecar(path, model, commitment)
    assert json.loads(sidecar_path(path).read_text())["format"] == SIDECAR_FORMAT


def test_bad_stack_sidecars_are_refused(
    tmp_path: Path, stacked: tuple[QuantizedModel, StackCommitment]
) -> None:
    model, commitment = stacked
    path = tmp_path / "m.opzkmodel"
    write_sidecar(path, model, commitment)
    sidecar = sidecar_path(path)
    original = json.loads(sidecar.read_text())

    def write(doc: object) -> None:
        sidecar.write_text(json.dumps(doc))

    def copy() -> dict[str, object]:
        return json.loads(json.dumps(original))  # type: ignore[no-any-return]

    doc = copy()
    doc["format"] = "opzk.sensitive-commitments.v3"
    write(doc)
    with pytest.raises(
        SidecarError, match=r"has format 'opzk\.sensitive-commitments\.v3', expected"
    ):
        load_sidecar(path, model)
    # Format v1 cannot hold a stack: a reader of v1 would not know the entry.
    doc = copy()
    doc["format"] = SIDECAR_FORMAT
    write(doc)
    with pytest.raises(SidecarError, match="two-layer stack's commitments, which format"):
        load_sidecar(path, model)
    # P and V swapped: V's shape is not P's.
    doc = copy()
    entry = doc["partitions"][0]  # type: ignore[index]
    entry["stack"] = {"p": entry["stack"]["v"], "v": entry["stack"]["p"]}
    write(doc)
    with pytest.raises(SidecarError, match=r"P and V|H_S|the stack's P is"):
        load_sidecar(path, model)
    # A missing half, a tampered blinding entry.
    doc = copy()
    del doc["partitions"][0]["stack"]["v"]  # type: ignore[index]
    write(doc)
    with pytest.raises(SidecarError, match="malformed"):
        load_sidecar(path, model)
    doc = copy()
    blinding = doc["partitions"][0]["stack"]["v"]["blinding"]  # type: ignore[index]
    doc["partitions"][0]["stack"]["v"]["blinding"] = blinding[:-1]  # type: ignore[index]
    write(doc)
    with pytest.raises(SidecarError, match="malformed"):
        load_sidecar(path, model)
    # A one-layer entry for the stack partition.
    doc = copy()
    doc["partitions"][0] = {  # type: ignore[index]
        "partition": 0,
        "layer": 1,
        "commitment": original["partitions"][0]["stack"]["p"],
    }
    write(doc)
    with pytest.raises(SidecarError, match="is a two-layer stack"):
        load_sidecar(path, model)
