"""Tests for prover.fraud: finding the first wrong element and assembling fraud-proof calldata."""

from __future__ import annotations

import numpy as np
import pytest

from protocol.activations import act_hash
from protocol.merkle import verify_merkle_proof
from protocol.model import QuantizedModel, forward_trace
from protocol.receipts import receipt_leaf
from protocol.trace import trace_leaf
from protocol.weights import weight_row_leaf
from prover.fraud import (
    CLAIM_SOURCE_BATCH,
    CLAIM_SOURCE_REQUEST,
    WrongElement,
    batch_claim_ref,
    first_wrong_element,
    layer_fraud_args,
    receipt_tuple,
    request_claim_ref,
)
from tests import factories

NODE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CLIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def inputs(model: QuantizedModel, count: int, seed: int = 0) -> list[np.ndarray]:
    rng = factories.rng_for(seed)
    return [factories.random_input(rng, model.layers[0].in_dim) for _ in range(count)]


def test_factory_models_are_not_saturated(
    public_model: QuantizedModel, sensitive_model: QuantizedModel
) -> None:
    for model in (public_model, sensitive_model):
        outputs = np.stack([forward_trace(model, x)[-1] for x in inputs(model, 64)]).astype(int)
        saturated = np.mean((outputs == 127) | (outputs == -128))
        assert saturated < 0.1
        assert len(np.unique(outputs)) > 40  # spread over int8, not a handful of values
        assert (outputs < 0).any() and (outputs > 0).any()  # last layer has no relu


def test_honest_traces_have_no_wrong_element(
    public_model: QuantizedModel, sensitive_model: QuantizedModel
) -> None:
    for model in (public_model, sensitive_model):
        for i, x in enumerate(inputs(model, 20, seed=1)):
            inf = factories.honest_inference(model, x, request_id=i, node=NODE, client=CLIENT)
            assert first_wrong_element(model, inf.claimed) is None
            assert first_wrong_element(model, list(inf.vectors)) is None


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_cheat_at_each_public_layer_is_found_there(
    public_model: QuantizedModel, layer: int
) -> None:
    width = public_model.layers[layer - 1].out_dim
    for row in range(width):
        for x in inputs(public_model, 2, seed=layer * 100 + row):
            inf = factories.cheat_at_layer(
                public_model, x, layer=layer, row=row, request_id=1, node=NODE, client=CLIENT
            )
            assert first_wrong_element(public_model, inf.claimed) == WrongElement(layer, row)


def test_first_of_several_wrong_rows_and_layers_is_reported(public_model: QuantizedModel) -> None:
    x = inputs(public_model, 1, seed=5)[0]
    vectors = forward_trace(public_model, x)
    for row in (7, 3, 9):
        vectors[1][row] = 127 if vectors[1][row] != 127 else 126
    vectors[3][0] = 127 if vectors[3][0] != 127 else 126
    assert first_wrong_element(public_model, vectors) == WrongElement(1, 3)


def test_only_public_layers_are_checked(sensitive_model: QuantizedModel) -> None:
    x = inputs(sensitive_model, 1, seed=9)[0]
    common = {"request_id": 1, "node": NODE, "client": CLIENT}
    # Public layers 1 and 4 of the sensitive model: found.
    for layer in (1, 4):
        inf = factories.cheat_at_layer(sensitive_model, x, layer=layer, row=2, **common)
        assert first_wrong_element(sensitive_model, inf.claimed) == WrongElement(layer, 2)
    # A cheat inside the sensitive partition (layer 3), with layer 4 consistent, is invisible to
    # re-execution: only a proof demand can catch it.
    inf = factories.cheat_at_layer(sensitive_model, x, layer=3, row=2, **common)
    assert inf.claimed[2] is None
    assert first_wrong_element(sensitive_model, inf.claimed) is None
    # Even with every vector shown, layers 2..3 are never recomputed (no private weights).
    assert first_wrong_element(sensitive_model, list(inf.vectors)) is None


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_wrong_lengths_are_flagged(public_model: QuantizedModel, index: int) -> None:
    x = inputs(public_model, 1, seed=3)[0]
    inf = factories.with_wrong_length(
        factories.honest_inference(public_model, x, request_id=1, node=NODE, client=CLIENT), index
    )
    assert len(inf.vectors[index]) == len(forward_trace(public_model, x)[index]) - 1
    # A short h_0 is layer 1's input; a short h_l is layer l's output.
    layer = max(index, 1)
    assert first_wrong_element(public_model, inf.claimed) == WrongElement(
        layer, 0, wrong_length=True
    )


def test_too_long_vector_is_flagged(public_model: QuantizedModel) -> None:
    vectors = forward_trace(public_model, inputs(public_model, 1)[0])
    vectors[2] = np.concatenate([vectors[2], np.array([0], dtype=np.int8)])
    assert first_wrong_element(public_model, vectors) == WrongElement(2, 0, wrong_length=True)


def test_layer_fraud_args_verify_against_the_commitments(public_model: QuantizedModel) -> None:
    x = inputs(public_model, 1, seed=8)[0]
    inf = factories.cheat_at_layer(
        public_model, x, layer=2, row=5, request_id=1, node=NODE, client=CLIENT
    )
    wrong = first_wrong_element(public_model, inf.claimed)
    assert wrong == WrongElement(2, 5)
    layer, x_in, in_proof, y, out_proof, row, weights, bias, w_proof = layer_fraud_args(
        public_model, inf.claimed, inf.act_hashes, wrong
    )
    assert (layer, row) == (2, 5)
    assert x_in == inf.vectors[1].tobytes() and y == inf.vectors[2].tobytes()
    root = inf.receipt.trace_root
    assert verify_merkle_proof(in_proof, root, trace_leaf(1, act_hash(x_in)))  # type: ignore[arg-type]
    assert verify_merkle_proof(out_proof, root, trace_leaf(2, act_hash(y)))  # type: ignore[arg-type]
    lay = public_model.layers[1]
    assert weights == lay.weights[5].tobytes() and bias == int(lay.biases[5])
    leaf = weight_row_leaf(5, bias, weights)  # type: ignore[arg-type]
    assert verify_merkle_proof(w_proof, public_model.weight_roots()[1], leaf)  # type: ignore[arg-type]
    # The claimed element really differs from the recomputation.
    assert lay.forward(inf.vectors[1])[5] != inf.vectors[2][5]


def test_layer_fraud_args_refuse_hidden_vectors(sensitive_model: QuantizedModel) -> None:
    x = inputs(sensitive_model, 1)[0]
    inf = factories.honest_inference(sensitive_model, x, request_id=1, node=NODE, client=CLIENT)
    with pytest.raises(ValueError, match="hidden"):
        layer_fraud_args(sensitive_model, inf.claimed, inf.act_hashes, WrongElement(3, 0))


def test_claim_refs(public_model: QuantizedModel) -> None:
    infs = factories.honest_batch(public_model, 5, node=NODE, client=CLIENT)
    tree = factories.receipts_tree(infs)
    source, batch_id, proof, receipt = batch_claim_ref(4, tree, 3, infs[3].receipt)
    assert (source, batch_id, receipt) == (CLAIM_SOURCE_BATCH, 4, receipt_tuple(infs[3].receipt))
    assert verify_merkle_proof(proof, tree.root, receipt_leaf(infs[3].receipt))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not leaf 2"):
        batch_claim_ref(4, tree, 2, infs[3].receipt)
    assert request_claim_ref(infs[0].receipt) == (
        CLAIM_SOURCE_REQUEST,
        infs[0].receipt.request_id,
        [],
        receipt_tuple(infs[0].receipt),
    )
    r = infs[0].receipt
    assert receipt_tuple(r) == (
        r.request_id,
        r.model_id,
        r.input_hash,
        r.output_hash,
        r.trace_root,
        NODE,
        CLIENT,
    )


def test_corrupt_output_recommits_consistently(public_model: QuantizedModel) -> None:
    x = inputs(public_model, 1, seed=12)[0]
    honest = factories.honest_inference(public_model, x, request_id=9, node=NODE, client=CLIENT)
    bad = factories.corrupt_output(honest, row=3, delta=2)
    assert abs(int(bad.vectors[-1][3]) - int(honest.vectors[-1][3])) == 2
    assert bad.receipt.output_hash == act_hash(bad.vectors[-1]) != honest.receipt.output_hash
    assert bad.receipt.trace_root == bad.tree.root != honest.receipt.trace_root
    assert bad.act_hashes[:-1] == honest.act_hashes[:-1]
    assert bad.receipt.input_hash == honest.receipt.input_hash
    assert first_wrong_element(public_model, bad.claimed) == WrongElement(3, 3)
