"""
Test data: small quantized models, inputs, honest and cheating traces, receipts and batches.

Everything here is pure Python (no chain): the integration tests push what it builds through the
real contracts, and the unit tests use it directly. Randomness always comes from a seeded
``numpy.random.Generator`` so every run builds the same models and traces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from protocol.activations import act_hash, int8_bytes
from protocol.merkle import MerkleTree
from protocol.model import QLinearLayer, QuantizedModel, all_public, forward_trace
from protocol.model_id import PartitionSpec
from protocol.receipts import Receipt, batch_tree
from protocol.requant import Activation
from protocol.trace import trace_activation_hashes, trace_tree
from protocol.types import ZERO_HASH, Hash32

Int8Vec = npt.NDArray[np.int8]

SHIFT = 24
"""Requant shift of every factory layer (the multiplier is calibrated against it)."""

TARGET_STD = 40.0
"""Calibration target: the standard deviation of requantized outputs, well inside int8."""

PUBLIC_DIMS = (36, 12, 8, 4)
"""Widths of the small public model: 36 exercises both the 32-byte word loop and the tail of
``QuantMath.dot`` in a fraud proof."""
PUBLIC_ACTIVATIONS = (Activation.RELU, Activation.RELU, Activation.NONE)

SENSITIVE_DIMS = (36, 12, 10, 8, 4)
SENSITIVE_ACTIVATIONS = (Activation.RELU, Activation.RELU, Activation.RELU, Activation.NONE)
SENSITIVE_FIRST, SENSITIVE_LAST = 2, 3
"""The sensitive partition of :func:`sensitive_model` covers layers 2..3 (partition index 1)."""
SENSITIVE_PARTITION_INDEX = 1
WEIGHT_COMMITMENT = Hash32(bytes.fromhex("c0" * 31 + "01"))
SETUP_ID = Hash32(bytes.fromhex("5e" * 31 + "02"))


def rng_for(seed: int) -> np.random.Generator:
    """A seeded generator (one place to change the bit generator)."""
    return np.random.default_rng(seed)


def random_input(rng: np.random.Generator, n: int) -> Int8Vec:
    """A uniformly random int8 vector of length ``n``."""
    return rng.integers(-128, 128, size=n, dtype=np.int16).astype(np.int8)


def _calibrated_layer(
    rng: np.random.Generator,
    calibration: npt.NDArray[np.int8],
    out_dim: int,
    activation: Activation,
) -> QLinearLayer:
    """
    A random layer whose multiplier puts the requantized outputs of ``calibration`` (rows are
    inputs) at about :data:`TARGET_STD`, so the outputs are spread over int8, not saturated.
    """
    in_dim = calibration.shape[1]
    weights = rng.integers(-128, 128, size=(out_dim, in_dim), dtype=np.int16).astype(np.int8)
    z_no_bias = calibration.astype(np.int64) @ weights.astype(np.int64).T
    spread = max(float(z_no_bias.std()), 1.0)
    bias_bound = max(1, int(spread / 4))
    biases = rng.integers(-bias_bound, bias_bound + 1, size=out_dim).astype(np.int32)
    multiplier = max(1, round(TARGET_STD * 2**SHIFT / spread))
    assert multiplier < 2**31
    return QLinearLayer(weights, biases, multiplier, SHIFT, activation)


def _random_layers(
    seed: int, dims: Sequence[int], activations: Sequence[Activation]
) -> list[QLinearLayer]:
    rng = rng_for(seed)
    calibration = np.stack([random_input(rng, dims[0]) for _ in range(64)])
    layers: list[QLinearLayer] = []
    for out_dim, activation in zip(dims[1:], activations, strict=True):
        layer = _calibrated_layer(rng, calibration, out_dim, activation)
        layers.append(layer)
        calibration = np.stack([layer.forward(row) for row in calibration])
    return layers


def public_model(seed: int = 7) -> QuantizedModel:
    """The small all-public model: 36 → 12 → 8 → 4, relu, relu, none."""
    return all_public(_random_layers(seed, PUBLIC_DIMS, PUBLIC_ACTIVATIONS))


def sensitive_model(seed: int = 11) -> QuantizedModel:
    """
    A 4-layer model 36 → 12 → 10 → 8 → 4 whose middle layers 2..3 form a sensitive partition
    (partition index 1, with a non-zero weight commitment and setup id); layers 1 and 4 are public
    partitions of one layer each. Trace entry 2 is hidden.
    """
    layers = _random_layers(seed, SENSITIVE_DIMS, SENSITIVE_ACTIVATIONS)
    partitions = (
        PartitionSpec(1, 1, False, ZERO_HASH, ZERO_HASH),
        PartitionSpec(SENSITIVE_FIRST, SENSITIVE_LAST, True, WEIGHT_COMMITMENT, SETUP_ID),
        PartitionSpec(4, 4, False, ZERO_HASH, ZERO_HASH),
    )
    return QuantizedModel(layers=tuple(layers), partitions=partitions)


def registration_args(
    model: QuantizedModel, verifiers: Sequence[str] | None = None
) -> tuple[list[tuple[int, ...]], list[bytes], list[tuple[object, ...]], list[str]]:
    """The four arguments of ``ModelRegistry.registerModel`` for ``model``."""
    zero = "0x" + "00" * 20
    verifier_list = list(verifiers) if verifiers is not None else [zero] * len(model.partitions)
    return (
        [h.as_abi_tuple() for h in model.headers()],
        [bytes(r) for r in model.weight_roots()],
        [p.as_abi_tuple() for p in model.partitions],
        verifier_list,
    )


# --------------------------------------------------------------------------------------------------
# Traces and receipts


@dataclass(frozen=True)
class Inference:
    """
    One inference as a node claims it: every vector ``h_0 … h_L`` it computed, the committed
    activation hashes (zero where hidden), the trace tree and the receipt.
    """

    model: QuantizedModel
    vectors: tuple[Int8Vec, ...]
    act_hashes: tuple[Hash32, ...]
    tree: MerkleTree
    receipt: Receipt

    @property
    def claimed(self) -> list[Int8Vec | None]:
        """The vectors a challenger can see: ``None`` at hidden positions."""
        hidden = self.model.hidden_indices()
        return [None if i in hidden else v for i, v in enumerate(self.vectors)]

    @property
    def input(self) -> bytes:
        """``h_0`` as int8 bytes."""
        return int8_bytes(self.vectors[0])

    @property
    def output(self) -> bytes:
        """``h_L`` as int8 bytes."""
        return int8_bytes(self.vectors[-1])

    def entry_proof(self, index: int) -> list[Hash32]:
        """Proof of trace entry ``index`` against the trace root."""
        return self.tree.proof(index)


def inference_from_vectors(
    model: QuantizedModel,
    vectors: Sequence[Int8Vec],
    *,
    request_id: int,
    node: str,
    client: str,
    input_hash: Hash32 | None = None,
    output_hash: Hash32 | None = None,
) -> Inference:
    """
    Commit to ``vectors`` as a node would: hash them (zero leaves at hidden positions), build the
    trace tree and the receipt. ``input_hash`` / ``output_hash`` override the receipt's endpoints
    (default: the hashes of ``h_0`` / ``h_L``), to build endpoint fraud.
    """
    vecs = tuple(np.asarray(v, dtype=np.int8).copy() for v in vectors)
    hashes = tuple(trace_activation_hashes(list(vecs), model.hidden_indices()))
    tree = trace_tree(hashes)
    receipt = Receipt(
        request_id=request_id,
        model_id=model.model_id(),
        input_hash=input_hash if input_hash is not None else act_hash(vecs[0]),
        output_hash=output_hash if output_hash is not None else act_hash(vecs[-1]),
        trace_root=tree.root,
        node=node,  # type: ignore[arg-type]
        client=client,  # type: ignore[arg-type]
    )
    return Inference(model, vecs, hashes, tree, receipt)


def honest_inference(
    model: QuantizedModel, x: Int8Vec, *, request_id: int, node: str, client: str
) -> Inference:
    """An honest node's inference of ``x``."""
    return inference_from_vectors(
        model, forward_trace(model, x), request_id=request_id, node=node, client=client
    )


def _bumped(value: int, delta: int) -> int:
    """``value + delta`` if it stays in int8, else ``value - delta`` (always a different value)."""
    assert delta != 0
    bumped = value + delta
    return bumped if -128 <= bumped <= 127 else value - delta


def cheat_at_layer(
    model: QuantizedModel,
    x: Int8Vec,
    *,
    layer: int,
    row: int,
    request_id: int,
    node: str,
    client: str,
    delta: int = 1,
) -> Inference:
    """
    A cheating node's inference: ``h_layer[row]`` is off by ``delta``, and every later layer is
    computed honestly *from the wrong value*, so only layer ``layer`` is inconsistent. The
    commitments (hashes, trace root, receipt's output hash) are consistent with the wrong vectors.
    """
    vectors = forward_trace(model, x)
    wrong = vectors[layer].copy()
    wrong[row] = _bumped(int(wrong[row]), delta)
    vectors[layer] = wrong
    for later in range(layer + 1, len(vectors)):
        vectors[later] = model.layers[later - 1].forward(vectors[later - 1])
    return inference_from_vectors(model, vectors, request_id=request_id, node=node, client=client)


def corrupt_output(inference: Inference, row: int = 0, delta: int = 1) -> Inference:
    """
    ``inference`` with output element ``row`` changed, re-committed consistently (new ``actHash``
    of ``h_L``, trace root and receipt output hash), as a node that lies about its result would.
    """
    vectors = list(inference.vectors)
    out = vectors[-1].copy()
    out[row] = _bumped(int(out[row]), delta)
    vectors[-1] = out
    r = inference.receipt
    return inference_from_vectors(
        inference.model, vectors, request_id=r.request_id, node=r.node, client=r.client
    )


def with_wrong_length(inference: Inference, index: int) -> Inference:
    """``inference`` whose committed ``h_index`` lost its last element (a wrong-length vector)."""
    vectors = list(inference.vectors)
    vectors[index] = vectors[index][:-1].copy()
    r = inference.receipt
    return inference_from_vectors(
        inference.model,
        vectors,
        request_id=r.request_id,
        node=r.node,
        client=r.client,
        input_hash=r.input_hash,
        output_hash=r.output_hash if index != len(vectors) - 1 else None,
    )


def honest_batch(
    model: QuantizedModel,
    count: int,
    *,
    node: str,
    client: str,
    seed: int = 0,
    first_request_id: int = 1,
) -> list[Inference]:
    """``count`` honest inferences of random inputs, with consecutive request ids."""
    rng = rng_for(seed)
    in_dim = model.layers[0].in_dim
    return [
        honest_inference(
            model,
            random_input(rng, in_dim),
            request_id=first_request_id + i,
            node=node,
            client=client,
        )
        for i in range(count)
    ]


def receipts_tree(inferences: Sequence[Inference]) -> MerkleTree:
    """The batch tree over the inferences' receipts, in order."""
    return batch_tree([inf.receipt for inf in inferences])


def with_receipt(inference: Inference, **changes: object) -> Inference:
    """``inference`` with some receipt fields replaced (the vectors and tree unchanged)."""
    return replace(inference, receipt=replace(inference.receipt, **changes))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Market parameters

BROKEN_PARAMS: tuple[tuple[str, dict[str, int], str], ...] = (
    ("zero challenge window", {"challenge_window": 0}, "ZeroWindow"),
    ("zero data response window", {"data_response_window": 0}, "ZeroWindow"),
    ("zero proof response window", {"proof_response_window": 0}, "ZeroWindow"),
    ("zero request timeout", {"request_timeout": 0}, "ZeroWindow"),
    # local: challenge 120 + longest response 120 = 240; the delay must be strictly longer.
    ("delay equal to the bound", {"withdrawal_delay": 240}, "WithdrawalDelayTooShort"),
    ("delay below the bound", {"withdrawal_delay": 100}, "WithdrawalDelayTooShort"),
    ("delay below a longer data window", {"data_response_window": 500}, "WithdrawalDelayTooShort"),
    ("reward above 100%", {"challenger_reward_bps": 10_001}, "RewardShareTooHigh"),
    ("zero slash", {"slash_amount": 0}, "SlashExceedsMinStake"),
    ("slash above min stake", {"slash_amount": 10 * 10**18 + 1}, "SlashExceedsMinStake"),
    ("zero data bond", {"data_bond": 0}, "ZeroBond"),
    ("zero proof bond", {"proof_bond": 0}, "ZeroBond"),
    # Several rules broken: the first in MarketParamsLib's order is reported on both sides.
    ("zero window and zero bond", {"request_timeout": 0, "proof_bond": 0}, "ZeroWindow"),
    ("reward and bond", {"challenger_reward_bps": 20_000, "data_bond": 0}, "RewardShareTooHigh"),
)
"""(case id, changes to the ``local`` preset, the rule it breaks: a MarketParamsLib error name)."""
