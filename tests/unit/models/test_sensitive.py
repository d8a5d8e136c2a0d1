"""models.sensitive: one layer made private, and the sidecar that keeps its commitment's secret."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

import numpy as np
import pytest

from models.digits import MODEL_PATH
from models.sensitive import (
    SIDECAR_FORMAT,
    SensitiveModelError,
    SidecarError,
    check_commitment,
    layer_headers_abi,
    load_sidecar,
    make_sensitive,
    partition_of_layer,
    sensitive_layer,
    sidecar_path,
    write_sidecar,
)
from models.store import load_model, save_model
from protocol.model import QLinearLayer, QuantizedModel, all_public, forward_trace
from protocol.model_id import PartitionSpec
from protocol.requant import Activation
from protocol.types import ZERO_HASH
from sumkzg import SETUP_ID, Setup, WeightCommitment, commit_weights, load_setup
from tests import factories


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def digits() -> QuantizedModel:
    return load_model(MODEL_PATH)


@pytest.fixture(scope="module")
def made(digits: QuantizedModel, setup: Setup) -> tuple[QuantizedModel, WeightCommitment]:
    return make_sensitive(digits, 2, setup, rng=random.Random(5))


def test_layer_2_of_digits_becomes_a_one_layer_sensitive_partition(
    digits: QuantizedModel, setup: Setup, made: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, commitment = made
    assert model.partitions == (
        PartitionSpec(1, 1, False, ZERO_HASH, ZERO_HASH),
        PartitionSpec(2, 2, True, commitment.h_w, SETUP_ID),  # type: ignore[arg-type]
        PartitionSpec(3, 3, False, ZERO_HASH, ZERO_HASH),
    )
    # Same weights, same outputs, a new identity; nothing of the trace is hidden (one layer).
    assert all(
        np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
        for a, b in zip(model.layers, digits.layers, strict=True)
    )
    x = np.arange(-32, 32, dtype=np.int8)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(forward_trace(model, x), forward_trace(digits, x), strict=True)
    )
    assert model.model_id() != digits.model_id()
    assert model.hidden_indices() == frozenset()
    assert model.weight_roots()[1] == ZERO_HASH
    assert model.weight_roots()[0] == digits.weight_roots()[0]
    # The commitment is sumkzg's over the layer's weights, with the given blinding source.
    layer = digits.layers[1]
    again = commit_weights(setup, layer.weights, layer.biases, rng=random.Random(5))
    assert again == commitment
    assert (commitment.m, commitment.n, commitment.setup_id) == (32, 64, SETUP_ID)
    check_commitment(model, 1, commitment)
    assert sensitive_layer(model, 1) is model.layers[1]
    assert partition_of_layer(model, 2) == 1
    assert len(layer_headers_abi(layer)) == 32 * 2 + 32 * 5


def test_without_rng_the_blinding_is_fresh(digits: QuantizedModel, setup: Setup) -> None:
    a, ca = make_sensitive(digits, 3, setup)
    b, cb = make_sensitive(digits, 3, setup)
    assert ca.h_w != cb.h_w and ca.blinding != cb.blinding
    assert a.model_id() != b.model_id()


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (1, [(1, 1, True), (2, 3, False)]),
        (3, [(1, 2, False), (3, 3, True)]),
    ],
)
def test_the_public_partition_is_split_around_the_layer(
    digits: QuantizedModel, setup: Setup, layer: int, expected: list[tuple[int, int, bool]]
) -> None:
    merged = all_public(digits.layers)
    model, commitment = make_sensitive(merged, layer, setup, rng=random.Random(1))
    assert [(p.first_layer, p.last_layer, p.sensitive) for p in model.partitions] == expected
    index = partition_of_layer(model, layer)
    assert model.partitions[index].weight_commitment == commitment.h_w
    # The new model is a valid model file.
    assert load_model_roundtrip(model).model_id() == model.model_id()


def load_model_roundtrip(model: QuantizedModel) -> QuantizedModel:
    from protocol.modelfile import decode_model, encode_model

    return decode_model(encode_model(model))


def test_other_sensitive_partitions_are_kept(setup: Setup) -> None:
    base = factories.sensitive_model()
    model, _ = make_sensitive(base, 4, setup, rng=random.Random(2))
    assert model.partitions[:2] == base.partitions[:2]
    assert model.partitions[2].sensitive and model.partitions[2].first_layer == 4


def test_refusals_are_one_line_and_name_the_layer(digits: QuantizedModel, setup: Setup) -> None:
    for layer in (0, 4):
        with pytest.raises(SensitiveModelError, match=f"layer {layer} is not a layer"):
            make_sensitive(digits, layer, setup)
    with pytest.raises(SensitiveModelError, match="must be an int"):
        make_sensitive(digits, True, setup)
    model, _ = make_sensitive(digits, 2, setup, rng=random.Random(3))
    with pytest.raises(SensitiveModelError, match="layer 2 is already in sensitive partition 1"):
        make_sensitive(model, 2, setup)
    wide = QLinearLayer(
        np.zeros((1, 65535), dtype=np.int8), np.zeros(1, dtype=np.int32), 1, 8, Activation.NONE
    )
    with pytest.raises(SensitiveModelError, match="layer 1 cannot be proven"):
        make_sensitive(all_public([wide]), 1, setup)
    with pytest.raises(SensitiveModelError, match=r"covers layers 2\.\.3"):
        sensitive_layer(factories.sensitive_model(), 1)
    with pytest.raises(SensitiveModelError, match="partition 0 is public"):
        sensitive_layer(model, 0)
    with pytest.raises(SensitiveModelError, match="partition 7 does not exist"):
        sensitive_layer(model, 7)


# --------------------------------------------------------------------------------------------------
# The sidecar


def test_sidecar_round_trip_is_private_and_checked(
    tmp_path: Path, made: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, commitment = made
    path = tmp_path / "digits-l2.opzkmodel"
    save_model(model, path)
    written = write_sidecar(path, model, commitment)
    assert written == sidecar_path(path) == tmp_path / "digits-l2.opzkmodel.commitment.json"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert load_sidecar(path, load_model(path)) == {1: commitment}
    document = json.loads(written.read_text())
    assert document["format"] == SIDECAR_FORMAT
    assert document["model_id"] == "0x" + model.model_id().hex()
    assert [(p["partition"], p["layer"]) for p in document["partitions"]] == [(1, 2)]
    # Rewriting keeps the mode and replaces the file.
    write_sidecar(path, model, {1: commitment})
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_sidecar_says_what_it_holds(
    tmp_path: Path, made: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, _ = made
    path = tmp_path / "m.opzkmodel"
    with pytest.raises(SidecarError, match=r"no commitment sidecar .*m\.opzkmodel\.commitment"):
        load_sidecar(path, model)


def test_sidecar_of_another_model_or_tampered_is_refused(
    tmp_path: Path,
    digits: QuantizedModel,
    setup: Setup,
    made: tuple[QuantizedModel, WeightCommitment],
) -> None:
    model, commitment = made
    path = tmp_path / "m.opzkmodel"
    write_sidecar(path, model, commitment)
    other, _ = make_sensitive(digits, 2, setup, rng=random.Random(99))
    with pytest.raises(SidecarError, match="is for model 0x"):
        load_sidecar(path, other)

    sidecar = sidecar_path(path)
    original = json.loads(sidecar.read_text())

    def write(doc: object) -> None:
        sidecar.write_text(json.dumps(doc))

    doc = json.loads(json.dumps(original))
    doc["format"] = "v0"
    write(doc)
    with pytest.raises(SidecarError, match="has format 'v0'"):
        load_sidecar(path, model)

    doc = json.loads(json.dumps(original))
    doc["partitions"][0]["commitment"]["blinding"] = doc["partitions"][0]["commitment"]["blinding"][
        :-1
    ]
    write(doc)
    with pytest.raises(SidecarError, match="malformed"):
        load_sidecar(path, model)

    doc = json.loads(json.dumps(original))
    doc["partitions"] = []
    write(doc)
    with pytest.raises(SidecarError, match=r"no commitment for sensitive partition\(s\) \[1\]"):
        load_sidecar(path, model)

    doc = json.loads(json.dumps(original))
    doc["partitions"][0]["partition"] = 0
    write(doc)
    with pytest.raises(SidecarError, match="partition 0 is public"):
        load_sidecar(path, model)

    # A sidecar written before every weight chunk had its own blinding column (commitment
    # version 1) belongs to another layout: refused, with what to do about it.
    doc = json.loads(json.dumps(original))
    doc["partitions"][0]["commitment"]["version"] = 1
    write(doc)
    with pytest.raises(SidecarError, match=r"version 1 weight commitment.*re-commit"):
        load_sidecar(path, model)

    sidecar.write_text("{not json")
    with pytest.raises(SidecarError, match="malformed"):
        load_sidecar(path, model)


def test_a_commitment_of_another_layer_is_refused(
    digits: QuantizedModel, setup: Setup, made: tuple[QuantizedModel, WeightCommitment]
) -> None:
    model, _ = made
    _, other = make_sensitive(digits, 1, setup, rng=random.Random(4))
    with pytest.raises(SensitiveModelError, match="no sensitive partition of the model has"):
        write_sidecar(Path("/nonexistent/m.opzkmodel"), model, other)
    with pytest.raises(SensitiveModelError, match="H_W 0x"):
        check_commitment(model, 1, other)
