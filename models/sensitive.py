"""
Sensitive (private-weight) partitions: making one, keeping its secret, registering it on-chain.

Introduction
------------
A model owner who wants weights private turns them into a **sensitive partition**, of one layer
(SumKZG-ML v2, docs/proof-system.md §3) or of two consecutive layers whose intermediate activation
stays hidden (SumKZG-ML v2-stack, docs/proof-system-stack.md):

1. :func:`make_sensitive` commits to one layer's weights (:func:`sumkzg.commit_weights`: chunked
   KZG commitments made hiding by random blinding columns) and returns the same model with that
   layer as ``PartitionSpec(sensitive=True, weight_commitment=H_W, setup_id=SETUP_ID)``.
   :func:`make_sensitive_stack` does the same for layers ``a, a + 1``: it commits the two matrices
   ``P`` and ``V`` of the stack (S1, :func:`sumkzg.stack.stack_matrices`) and names the partition
   ``(a, a + 1)`` with ``weight_commitment = H_S = keccak256(H_P ‖ H_V)``
   (:class:`StackCommitment`). The other layers stay public. The model id changes (it covers the
   partitions), the outputs do not.
2. A :class:`~sumkzg.WeightCommitment` holds **secret** blinding columns: every later proof needs
   them, and they cannot be recomputed. :func:`write_sidecar` keeps the commitments next to the
   model file in the **commitment sidecar** ``<model file>.commitment.json`` (mode 0600, written
   atomically); :func:`load_sidecar` reads it back and checks it against the model. Format::

       {"format": "opzk.sensitive-commitments.v1",
        "model_id": "0x…",
        "partitions": [{"partition": 1, "layer": 2, "commitment": {…WeightCommitment.to_json…}}]}

   A sidecar that holds a two-layer partition has the format ``opzk.sensitive-commitments.v2``
   (:data:`SIDECAR_FORMAT_STACK`) and that partition's entry carries both secret commitments::

       {"partition": 0, "layer": 1, "last_layer": 2,
        "stack": {"p": {…WeightCommitment.to_json…}, "v": {…}}}

   One-layer entries are the same in both formats, and a sidecar of one-layer partitions only is
   still written as v1 (byte-compatible with earlier versions); a reader that knows only v1 refuses
   a v2 sidecar by its format rather than misreading it.
3. :func:`register_sensitive_model` proves each commitment well-formed
   (:func:`sumkzg.prove_registration`) and records it with the deployment's ``SumKzgVerifier``
   (``registerCommitment``; skipped when the verifier already has it): the one layer's ``H_W``, or
   a stack's ``P`` and ``V`` as ``(m1 + 4) × n1`` and ``(n2 + 4) × m2`` matrices, after which the
   deployment's ``SumKzgStackVerifier`` records the stack (``recordStack(H_P, H_V, headers)``,
   skipped when known). It then registers the model in ``ModelRegistry`` with ``SumKzgVerifier``
   for every one-layer sensitive partition and ``SumKzgStackVerifier`` for every two-layer one.
   The registry refuses a sensitive partition whose commitment its verifier has not recorded
   (``CommitmentNotWellFormed``).

``opzk node register-model --sensitive-layer N`` / ``--sensitive-layers A-B`` drives all three
(:mod:`node.cli`).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from eth_abi.abi import encode

from protocol.errors import OpzkError
from protocol.model import QLinearLayer, QuantizedModel
from protocol.model_id import LAYER_HEADER_ABI, PartitionSpec
from protocol.types import ZERO_HASH, Hash32
from sumkzg import (
    RegistrationStatement,
    Setup,
    SumKzgError,
    WeightCommitment,
    commit_weights,
    load_setup,
    prove_registration,
)
from sumkzg.layout import Layout, LayoutError
from sumkzg.stack import StackLayer, StackStatement, stack_commitment_hash, stack_matrices

if TYPE_CHECKING:
    from web3.contract import Contract
    from web3.types import TxReceipt

    from opzk.chain import ChainClient
    from opzk.marketplace import Marketplace

SIDECAR_SUFFIX = ".commitment.json"
"""Appended to the model file's name: ``x.opzkmodel`` → ``x.opzkmodel.commitment.json``."""

SIDECAR_FORMAT = "opzk.sensitive-commitments.v1"
"""The ``format`` field of a sidecar whose sensitive partitions are all one layer."""

SIDECAR_FORMAT_STACK = "opzk.sensitive-commitments.v2"
"""The ``format`` field of a sidecar that holds a two-layer partition (``"stack"`` entries)."""

SIDECAR_FORMATS = (SIDECAR_FORMAT, SIDECAR_FORMAT_STACK)
"""The formats :func:`load_sidecar` reads."""

SIDECAR_MODE = 0o600
"""A sidecar holds secret blinding values: readable by its owner only."""

STACK_ROWS = 4
"""The rows ``P`` and ``V`` add to a stack's layers (S1: ``P`` four zero rows, ``V`` the bias
bytes)."""

_ZERO_ADDRESS = "0x" + "00" * 20


class SensitiveModelError(OpzkError):
    """A layer cannot be made sensitive, or a sensitive model cannot be registered."""


class SidecarError(SensitiveModelError):
    """A commitment sidecar is missing, malformed, or does not belong to the model."""


# --------------------------------------------------------------------------------------------------
# A two-layer partition's commitments
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackCommitment:
    """
    The commitments of a two-layer sensitive partition (docs/proof-system-stack.md S1).

    Attributes
    ----------
    p :
        ``P = [W1; 0]``, shape ``(m1 + 4) × n1``, bias ``[b1; 0, 0, 0, 0]``.
    v :
        ``V``: ``W2`` transposed with ``b2``'s four biased bytes as extra rows, shape
        ``(n2 + 4) × m2``, bias zero.

    Both are secret (blinding columns) and were made under the same setup; ``p.m == v.m``
    (``m1 + 4 = n2 + 4``). Construction checks both.
    """

    p: WeightCommitment
    v: WeightCommitment

    def __post_init__(self) -> None:
        """Check that ``p`` and ``v`` can be one stack's: same setup, same row count."""
        if self.p.setup_id != self.v.setup_id:
            raise SensitiveModelError(
                f"the stack's P and V were committed under different setups "
                f"(0x{self.p.setup_id.hex()}, 0x{self.v.setup_id.hex()})"
            )
        if self.p.m != self.v.m or self.p.m <= STACK_ROWS:
            raise SensitiveModelError(
                f"P ({self.p.m}×{self.p.n}) and V ({self.v.m}×{self.v.n}) are not one stack's: "
                f"both must have m1 + {STACK_ROWS} rows"
            )

    @property
    def h_s(self) -> bytes:
        """``H_S = keccak256(H_P ‖ H_V)``: the partition's ``weightCommitment``."""
        return stack_commitment_hash(self.p.h_w, self.v.h_w)

    @property
    def setup_id(self) -> bytes:
        """The setup both matrices were committed under."""
        return self.p.setup_id

    def shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((m1 + 4, n1), (n2 + 4, m2))``: the shapes ``P`` and ``V`` are registered with."""
        return (self.p.m, self.p.n), (self.v.m, self.v.n)

    def to_json_object(self) -> dict[str, Any]:
        """``{"p": …, "v": …}`` (each :meth:`sumkzg.WeightCommitment.to_json`), for the sidecar."""
        return {"p": json.loads(self.p.to_json()), "v": json.loads(self.v.to_json())}

    @staticmethod
    def from_json_object(document: Mapping[str, Any]) -> StackCommitment:
        """
        Parse :meth:`to_json_object`'s output.

        Raises
        ------
        KeyError, TypeError, ValueError, SumKzgError, SensitiveModelError
            If a field is missing or malformed.
        """
        return StackCommitment(
            p=WeightCommitment.from_json(json.dumps(document["p"])),
            v=WeightCommitment.from_json(json.dumps(document["v"])),
        )


PartitionCommitment = WeightCommitment | StackCommitment
"""What a sensitive partition's prover keeps: one layer's commitment, or a stack's two."""


def commitment_hash(commitment: PartitionCommitment) -> bytes:
    """The partition's ``weightCommitment``: ``H_W`` of one layer, ``H_S`` of a stack."""
    return commitment.h_w if isinstance(commitment, WeightCommitment) else commitment.h_s


StackWeights = tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]
"""A registered matrix of a stack (int8) and its bias column (int64 holding int32 values)."""


def stack_weights(layers: tuple[QLinearLayer, QLinearLayer]) -> tuple[StackWeights, StackWeights]:
    """
    ``((P, P bias), (V, V bias))`` of two consecutive layers (S1, :func:`sumkzg.stack.
    stack_matrices`), the matrices as int8 as :func:`sumkzg.commit_weights` takes them.

    Raises
    ------
    SensitiveModelError
        If an entry of ``P`` or ``V`` is not int8 (S1 makes every one int8).
    """
    first, second = layers
    p, v = stack_matrices(first.weights, first.biases, second.weights, second.biases)
    out: list[StackWeights] = []
    for name, (weights, biases) in (("P", p), ("V", v)):
        wide = np.asarray(weights, dtype=np.int64)
        if wide.size and (int(wide.min()) < -128 or int(wide.max()) > 127):
            raise SensitiveModelError(f"the stack's {name} has an entry outside int8")
        out.append((wide.astype(np.int8), np.asarray(biases, dtype=np.int64)))
    return out[0], out[1]


def stack_layer(layer: QLinearLayer) -> StackLayer:
    """One layer's public parameters as a stack statement names them."""
    return StackLayer(
        layer.out_dim, layer.in_dim, layer.multiplier, layer.shift, int(layer.activation)
    )


# --------------------------------------------------------------------------------------------------
# Making a layer sensitive
# --------------------------------------------------------------------------------------------------


def partition_of_layer(model: QuantizedModel, layer: int) -> int:
    """
    The index of the partition that holds layer ``layer`` (1-based).

    Raises
    ------
    SensitiveModelError
        If ``layer`` is not a layer of ``model``.
    """
    for index, spec in enumerate(model.partitions):
        if spec.first_layer <= layer <= spec.last_layer:
            return index
    raise SensitiveModelError(
        f"layer {layer} is not a layer of this {len(model.layers)}-layer model (layers are 1.."
        f"{len(model.layers)})"
    )


def make_sensitive(
    model: QuantizedModel, layer: int, setup: Setup, *, rng: random.Random | None = None
) -> tuple[QuantizedModel, WeightCommitment]:
    """
    The same model with layer ``layer`` as a one-layer sensitive partition.

    Parameters
    ----------
    model :
        The model; layer ``layer`` must be in a public partition (which is split around it).
    layer :
        The layer to make private, 1-based.
    setup :
        The proof system's setup (:func:`sumkzg.load_setup`).
    rng :
        TESTS ONLY: a deterministic source of the blinding column (see
        :func:`sumkzg.commit_weights`). ``None``, the default, draws it from :mod:`secrets`.

    Returns
    -------
    model : `QuantizedModel`
        The same layers (weights, scales), with the partition ``(layer, layer, True, H_W,
        setup id)`` and the rest of the old partition as public partitions.
    commitment : `WeightCommitment`
        The layer's commitment, with its secret blinding column: keep it (:func:`write_sidecar`).

    Raises
    ------
    SensitiveModelError
        If ``layer`` is not a layer of the model, is already sensitive, or has a shape the proof
        system refuses.
    """
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise SensitiveModelError(f"layer must be an int, got {type(layer).__name__}")
    index = partition_of_layer(model, layer)
    old = model.partitions[index]
    if old.sensitive:
        raise SensitiveModelError(f"layer {layer} is already in sensitive partition {index}")
    q = model.layers[layer - 1]
    try:
        Layout.of(q.out_dim, q.in_dim)
    except LayoutError as error:
        raise SensitiveModelError(f"layer {layer} cannot be proven: {error}") from error
    try:
        commitment = commit_weights(setup, q.weights, q.biases, rng=rng)
    except SumKzgError as error:
        raise SensitiveModelError(f"layer {layer} cannot be committed: {error}") from error
    spec = PartitionSpec(layer, layer, True, Hash32(commitment.h_w), Hash32(commitment.setup_id))
    return replace(model, partitions=_carve(model, layer, layer, spec)), commitment


def make_sensitive_stack(
    model: QuantizedModel, first_layer: int, setup: Setup, *, rng: random.Random | None = None
) -> tuple[QuantizedModel, StackCommitment]:
    """
    The same model with layers ``first_layer`` and ``first_layer + 1`` as one two-layer sensitive
    partition (SumKZG-ML v2-stack): their intermediate activation is hidden from the trace.

    Parameters
    ----------
    model :
        The model; both layers must be in public partitions (split around them).
    first_layer :
        The first of the two layers, 1-based.
    setup :
        The proof system's setup (:func:`sumkzg.load_setup`).
    rng :
        TESTS ONLY: a deterministic source of the blinding columns (``P``'s, then ``V``'s).
        ``None``, the default, draws them from :mod:`secrets`.

    Returns
    -------
    model : `QuantizedModel`
        The same layers, with the partition ``(first_layer, first_layer + 1, True, H_S, setup id)``
        and what is left of the old public partitions around it.
    commitment : `StackCommitment`
        ``P``'s and ``V``'s commitments with their secret blinding columns: keep them
        (:func:`write_sidecar`).

    Raises
    ------
    SensitiveModelError
        If the two layers are not layers of the model, one is already sensitive, or their shapes
        are refused by the proof system (S1, S2, S10: ``m1 + 4 ≤ 2048``, ``ℓ ≤ 24``, …). Nothing
        is committed then.
    """
    if isinstance(first_layer, bool) or not isinstance(first_layer, int):
        raise SensitiveModelError(f"first_layer must be an int, got {type(first_layer).__name__}")
    last_layer = first_layer + 1
    count = len(model.layers)
    if not 1 <= first_layer < count:
        raise SensitiveModelError(
            f"layers {first_layer}..{last_layer} are not two layers of this {count}-layer model "
            f"(layers are 1..{count})"
        )
    for layer in (first_layer, last_layer):
        index = partition_of_layer(model, layer)
        if model.partitions[index].sensitive:
            raise SensitiveModelError(f"layer {layer} is already in sensitive partition {index}")
    layers = (model.layers[first_layer - 1], model.layers[last_layer - 1])
    check_stack_shape(layers, first_layer)
    try:
        (p_w, p_b), (v_w, v_b) = stack_weights(layers)
        commitment = StackCommitment(
            p=commit_weights(setup, p_w, p_b, rng=rng),
            v=commit_weights(setup, v_w, v_b, rng=rng),
        )
    except SumKzgError as error:
        raise SensitiveModelError(
            f"layers {first_layer}..{last_layer} cannot be committed: {error}"
        ) from error
    spec = PartitionSpec(
        first_layer, last_layer, True, Hash32(commitment.h_s), Hash32(commitment.setup_id)
    )
    partitions = _carve(model, first_layer, last_layer, spec)
    return replace(model, partitions=partitions), commitment


def check_stack_shape(layers: tuple[QLinearLayer, QLinearLayer], first_layer: int) -> None:
    """
    Check that two consecutive layers can be proven as one stack (S1, S2, S10).

    Raises
    ------
    SensitiveModelError
        If ``P`` or ``V`` has a shape the registration refuses, or the stack statement's limits
        (``m1 + 4 ≤ 2048``, ``ℓ ≤ 24``, ``L2 + 2 ≤ m'``, the layers' ``M``, ``k``) are not met.
    """
    first, second = layers
    where = f"layers {first_layer}..{first_layer + 1}"
    if second.in_dim != first.out_dim:
        raise SensitiveModelError(
            f"{where}: layer {first_layer} outputs {first.out_dim} values, layer "
            f"{first_layer + 1} takes {second.in_dim}"
        )
    try:
        # The statement checks every limit of the stack (its layout); its values do not matter.
        StackStatement.from_values(
            chain_id=1,
            verifier=_ZERO_ADDRESS,
            model_id=bytes(32),
            partition_index=0,
            h_p=bytes(32),
            h_v=bytes(32),
            layer1=stack_layer(first),
            layer2=stack_layer(second),
            x=np.zeros(first.in_dim, dtype=np.int8),
            y=np.zeros(second.out_dim, dtype=np.int8),
            job_id=0,
        )
    except SumKzgError as error:
        raise SensitiveModelError(f"{where} cannot be proven as one stack: {error}") from error


def _carve(
    model: QuantizedModel, first_layer: int, last_layer: int, spec: PartitionSpec
) -> tuple[PartitionSpec, ...]:
    """
    ``model``'s partitions with layers ``first_layer..last_layer`` as ``spec``: each public
    partition they intersect keeps its layers outside that range as public partitions. Every layer
    of the range must be in a public partition (checked by the callers).
    """
    out: list[PartitionSpec] = []
    for old in model.partitions:
        if old.last_layer < first_layer or old.first_layer > last_layer:
            out.append(old)
            continue
        if old.first_layer < first_layer:
            out.append(PartitionSpec(old.first_layer, first_layer - 1, False, ZERO_HASH, ZERO_HASH))
        if old.first_layer <= first_layer:
            out.append(spec)
        if old.last_layer > last_layer:
            out.append(PartitionSpec(last_layer + 1, old.last_layer, False, ZERO_HASH, ZERO_HASH))
    return tuple(out)


def sensitive_layers(model: QuantizedModel, partition: int) -> tuple[QLinearLayer, ...]:
    """
    The layers of sensitive partition ``partition``: one, or two (a stack).

    Raises
    ------
    SensitiveModelError
        If the partition does not exist, is public, or covers more than two layers (no proof
        system here proves that).
    """
    if not 0 <= partition < len(model.partitions):
        raise SensitiveModelError(
            f"partition {partition} does not exist (the model has {len(model.partitions)})"
        )
    spec = model.partitions[partition]
    if not spec.sensitive:
        raise SensitiveModelError(f"partition {partition} is public")
    if spec.last_layer - spec.first_layer > 1:
        raise SensitiveModelError(
            f"partition {partition} covers layers {spec.first_layer}..{spec.last_layer}: "
            "sensitive partitions of one layer (SumKZG-ML v2) or two (v2-stack) can be proven"
        )
    return model.layers[spec.first_layer - 1 : spec.last_layer]


def sensitive_layer(model: QuantizedModel, partition: int) -> QLinearLayer:
    """
    The one layer of one-layer sensitive partition ``partition``.

    Raises
    ------
    SensitiveModelError
        If the partition does not exist, is public, or covers more than one layer (a two-layer
        partition's layers: :func:`sensitive_layers`).
    """
    layers = sensitive_layers(model, partition)
    if len(layers) != 1:
        spec = model.partitions[partition]
        raise SensitiveModelError(
            f"partition {partition} covers layers {spec.first_layer}..{spec.last_layer}: "
            "it is a two-layer stack, not one layer"
        )
    return layers[0]


def check_commitment(
    model: QuantizedModel, partition: int, commitment: PartitionCommitment
) -> None:
    """
    Check that ``commitment`` is the one of sensitive partition ``partition`` of ``model``.

    Raises
    ------
    SensitiveModelError
        If the partition is not a sensitive partition of one or two layers, the commitment is of
        the other kind (one layer / stack), or its hash, shapes or setup are not the partition's.
    """
    layers = sensitive_layers(model, partition)
    spec = model.partitions[partition]
    if len(layers) == 1 and not isinstance(commitment, WeightCommitment):
        raise SensitiveModelError(
            f"partition {partition} is one layer; the commitment is a two-layer stack's"
        )
    if len(layers) == 2 and not isinstance(commitment, StackCommitment):
        raise SensitiveModelError(
            f"partition {partition} is a two-layer stack (layers {spec.first_layer}.."
            f"{spec.last_layer}); the commitment is one layer's"
        )
    name = "H_W" if len(layers) == 1 else "H_S"
    if commitment_hash(commitment) != bytes(spec.weight_commitment):
        raise SensitiveModelError(
            f"partition {partition}: the commitment's {name} 0x{commitment_hash(commitment).hex()} "
            f"is not the model's 0x{bytes(spec.weight_commitment).hex()}"
        )
    if isinstance(commitment, WeightCommitment):
        (layer,) = layers
        if (commitment.m, commitment.n) != (layer.out_dim, layer.in_dim):
            raise SensitiveModelError(
                f"partition {partition}: the commitment is for a {commitment.m}×{commitment.n} "
                f"layer, the model's is {layer.out_dim}×{layer.in_dim}"
            )
    else:
        first, second = layers
        expected = (
            (first.out_dim + STACK_ROWS, first.in_dim),
            (second.in_dim + STACK_ROWS, second.out_dim),
        )
        if commitment.shapes() != expected:
            (pm, pn), (vm, vn) = commitment.shapes()
            (em, en), (fm, fn) = expected
            raise SensitiveModelError(
                f"partition {partition}: the stack's P is {pm}×{pn} and V {vm}×{vn}, the "
                f"model's layers need {em}×{en} and {fm}×{fn}"
            )
    if commitment.setup_id != bytes(spec.setup_id):
        raise SensitiveModelError(
            f"partition {partition}: the commitment was made under setup "
            f"0x{commitment.setup_id.hex()}, the model names 0x{bytes(spec.setup_id).hex()}"
        )


def sensitive_partitions(model: QuantizedModel) -> list[int]:
    """The indices of the model's sensitive partitions."""
    return [i for i, p in enumerate(model.partitions) if p.sensitive]


def _by_partition(
    model: QuantizedModel,
    commitments: PartitionCommitment | Mapping[int, PartitionCommitment],
) -> dict[int, PartitionCommitment]:
    """``commitments`` keyed by partition index (a bare commitment: the partition with its hash)."""
    if isinstance(commitments, WeightCommitment | StackCommitment):
        wanted = commitment_hash(commitments)
        matching = [
            i
            for i in sensitive_partitions(model)
            if bytes(model.partitions[i].weight_commitment) == wanted
        ]
        if not matching:
            raise SensitiveModelError(
                f"no sensitive partition of the model has weight commitment 0x{wanted.hex()}"
            )
        commitments = {matching[0]: commitments}
    out = {int(i): c for i, c in commitments.items()}
    for index, commitment in out.items():
        check_commitment(model, index, commitment)
    return out


# --------------------------------------------------------------------------------------------------
# The sidecar
# --------------------------------------------------------------------------------------------------


def sidecar_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the commitments of the model file ``model_path`` are kept."""
    path = Path(model_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _sidecar_entry(model: QuantizedModel, index: int, commitment: PartitionCommitment) -> Any:
    spec = model.partitions[index]
    if isinstance(commitment, WeightCommitment):
        return {
            "partition": index,
            "layer": spec.first_layer,
            "commitment": json.loads(commitment.to_json()),
        }
    return {
        "partition": index,
        "layer": spec.first_layer,
        "last_layer": spec.last_layer,
        "stack": commitment.to_json_object(),
    }


def write_sidecar(
    model_path: str | os.PathLike[str],
    model: QuantizedModel,
    commitments: PartitionCommitment | Mapping[int, PartitionCommitment],
) -> Path:
    """
    Write the commitment sidecar of the model file ``model_path`` (atomically, mode 0600).

    Parameters
    ----------
    model_path :
        The model file the sidecar belongs to (it need not exist yet).
    model :
        The model, whose every sensitive partition gets its commitment.
    commitments :
        A commitment (of the partition with its ``H_W`` or ``H_S``), or commitments by partition
        index.

    Returns
    -------
    path : `pathlib.Path`
        The sidecar's path (:func:`sidecar_path`). Its format is :data:`SIDECAR_FORMAT` when every
        sensitive partition is one layer, :data:`SIDECAR_FORMAT_STACK` otherwise.

    Raises
    ------
    SensitiveModelError
        If a commitment is not its partition's, or a sensitive partition has none.
    OSError
        If the file cannot be written.
    """
    by_partition = _by_partition(model, commitments)
    missing = [i for i in sensitive_partitions(model) if i not in by_partition]
    if missing:
        raise SensitiveModelError(f"no commitment for sensitive partition(s) {missing}")
    stacked = any(isinstance(c, StackCommitment) for c in by_partition.values())
    document = {
        "format": SIDECAR_FORMAT_STACK if stacked else SIDECAR_FORMAT,
        "model_id": "0x" + bytes(model.model_id()).hex(),
        "partitions": [
            _sidecar_entry(model, index, commitment)
            for index, commitment in sorted(by_partition.items())
        ],
    }
    target = sidecar_path(model_path)
    data = (json.dumps(document, indent=1) + "\n").encode()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.chmod(temporary, SIDECAR_MODE)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load_sidecar(
    model_path: str | os.PathLike[str], model: QuantizedModel
) -> dict[int, PartitionCommitment]:
    """
    Read the commitment sidecar of the model file ``model_path`` and check it against ``model``.

    Returns
    -------
    commitments : `dict`
        Partition index → :class:`~sumkzg.WeightCommitment` (one-layer partition) or
        :class:`StackCommitment` (two-layer partition), one per sensitive partition.

    Raises
    ------
    SidecarError
        If the sidecar is missing or unreadable, of an unknown format, malformed, for another
        model, or lacks or mismatches a sensitive partition's commitment.
    """
    path = sidecar_path(model_path)
    try:
        text = path.read_text()
    except FileNotFoundError as error:
        raise SidecarError(
            f"no commitment sidecar {path} for the sensitive model {model_path}: it holds the "
            "secret of the weight commitment, without which no proof can be made"
        ) from error
    except OSError as error:
        raise SidecarError(f"cannot read the commitment sidecar {path}: {error}") from error
    try:
        document: dict[str, Any] = json.loads(text)
        found_format = document.get("format")
        if found_format not in SIDECAR_FORMATS:
            raise SidecarError(
                f"{path} has format {found_format!r}, expected {SIDECAR_FORMAT!r} or "
                f"{SIDECAR_FORMAT_STACK!r} (written by a newer or another program?)"
            )
        model_id = "0x" + bytes(model.model_id()).hex()
        if str(document["model_id"]).lower() != model_id:
            raise SidecarError(
                f"{path} is for model {document['model_id']}, not {model_id} (the model file "
                "was changed or the sidecar belongs to another file)"
            )
        found: dict[int, PartitionCommitment] = {}
        for entry in document["partitions"]:
            index = int(entry["partition"])
            if "stack" in entry:
                if found_format == SIDECAR_FORMAT:
                    raise SidecarError(
                        f"{path}: partition {index} has a two-layer stack's commitments, which "
                        f"format {SIDECAR_FORMAT!r} cannot hold"
                    )
                found[index] = StackCommitment.from_json_object(entry["stack"])
            else:
                found[index] = WeightCommitment.from_json(json.dumps(entry["commitment"]))
    except SidecarError:
        raise
    except (KeyError, TypeError, ValueError, SumKzgError, SensitiveModelError) as error:
        raise SidecarError(f"{path} is malformed: {error}") from error
    try:
        checked = _by_partition(model, found)
    except SensitiveModelError as error:
        raise SidecarError(f"{path}: {error}") from error
    missing = [i for i in sensitive_partitions(model) if i not in checked]
    if missing:
        raise SidecarError(f"{path} has no commitment for sensitive partition(s) {missing}")
    return checked


# --------------------------------------------------------------------------------------------------
# Registration on-chain
# --------------------------------------------------------------------------------------------------


def layer_headers_abi(layer: QLinearLayer) -> bytes:
    """``abi.encode(LayerHeader[])`` of one layer: what the verifier and the registry compare."""
    return encode([f"{LAYER_HEADER_ABI}[]"], [[layer.header().as_abi_tuple()]])


def partition_headers_abi(model: QuantizedModel, partition: int) -> bytes:
    """``abi.encode(LayerHeader[])`` of partition ``partition``'s layers, in order."""
    spec = model.partitions[partition]
    layers = model.layers[spec.first_layer - 1 : spec.last_layer]
    return encode([f"{LAYER_HEADER_ABI}[]"], [[q.header().as_abi_tuple() for q in layers]])


@dataclass(frozen=True)
class SensitiveRegistration:
    """What :func:`register_sensitive_model` did."""

    model_id: bytes
    verifier: str
    """The ``SumKzgVerifier``: named for every one-layer sensitive partition, and the registry of
    every stack's ``P`` and ``V``."""
    commitment_txs: dict[int, TxReceipt]
    """One-layer partition index → the ``registerCommitment`` receipt (absent when already
    recorded)."""
    registration_tx: TxReceipt
    """The ``registerModel`` receipt."""
    stack_verifier: str | None = None
    """The ``SumKzgStackVerifier`` named for every two-layer partition (``None``: there is none)."""
    stack_commitment_txs: dict[int, tuple[TxReceipt, ...]] | None = None
    """Two-layer partition index → the ``registerCommitment`` receipts of its ``P`` and ``V`` that
    were sent (a matrix already recorded is skipped)."""
    record_txs: dict[int, TxReceipt] | None = None
    """Two-layer partition index → the ``recordStack`` receipt (absent when already recorded)."""


@dataclass(frozen=True)
class _Matrix:
    """One matrix to be proven well-formed with the base verifier."""

    commitment: WeightCommitment
    weights: npt.NDArray[np.int8]
    biases: npt.NDArray[np.int64]


def _stack_matrices(
    model: QuantizedModel, index: int, commitment: StackCommitment
) -> tuple[_Matrix, _Matrix]:
    first, second = sensitive_layers(model, index)
    try:
        (p_w, p_b), (v_w, v_b) = stack_weights((first, second))
    except SumKzgError as error:
        raise SensitiveModelError(f"partition {index} cannot be a stack: {error}") from error
    return _Matrix(commitment.p, p_w, p_b), _Matrix(commitment.v, v_w, v_b)


def _known(client: ChainClient, verifier: Contract, commitment: WeightCommitment) -> bool:
    """Whether the base verifier recorded ``commitment`` as well-formed for its shape."""
    key = client.call(verifier.functions.commitmentKey(commitment.h_w, commitment.m, commitment.n))
    return bool(client.call(verifier.functions.wellFormed(key)))


def register_sensitive_model(
    market: Marketplace,
    model: QuantizedModel,
    commitments: PartitionCommitment | Mapping[int, PartitionCommitment],
    *,
    setup: Setup | None = None,
) -> SensitiveRegistration:
    """
    Prove each sensitive partition's commitments well-formed, record them with the deployment's
    verifiers, and register the model with them (as ``market``'s account).

    For a one-layer partition: ``SumKzgVerifier.registerCommitment`` of its ``H_W`` (skipped when
    recorded); the partition's verifier is ``SumKzgVerifier``. For a two-layer partition:
    ``registerCommitment`` of ``P`` and of ``V`` (each skipped when recorded), then
    ``SumKzgStackVerifier.recordStack(H_P, H_V, headers)`` (skipped when the stack verifier already
    reports ``H_S`` well-formed for the two layers); the partition's verifier is
    ``SumKzgStackVerifier``. Then ``ModelRegistry.registerModel``.

    Parameters
    ----------
    market :
        The deployment, acting as the registering account (the model's owner).
    model :
        The model; every sensitive partition must be one or two layers.
    commitments :
        A commitment (of the partition with its ``H_W`` / ``H_S``) or commitments by partition
        index, covering every sensitive partition (:func:`load_sidecar`'s result fits).
    setup :
        The proof system's setup; :func:`sumkzg.load_setup` when omitted.

    Returns
    -------
    registration : `SensitiveRegistration`
        The model id, the verifiers and the receipts.

    Raises
    ------
    SensitiveModelError
        If a commitment is missing or not its partition's: nothing is sent then.
    protocol.errors.ContractError
        The decoded revert of a step (e.g. ``InvalidRegistrationProof``, ``StackNotRegistered``,
        ``ModelAlreadyRegistered``); nothing after it is sent.
    """
    by_partition = _by_partition(model, commitments)
    missing = [i for i in sensitive_partitions(model) if i not in by_partition]
    if missing:
        raise SensitiveModelError(f"no commitment for sensitive partition(s) {missing}")
    client = market.client
    verifier, stack_verifier = market.verifier, market.stack_verifier
    stacks = {i: c for i, c in by_partition.items() if isinstance(c, StackCommitment)}
    singles = {i: c for i, c in by_partition.items() if isinstance(c, WeightCommitment)}
    # Everything is checked (and the stack matrices built) before anything is sent.
    matrices = {i: _stack_matrices(model, i, c) for i, c in sorted(stacks.items())}
    for index, stack in sorted(stacks.items()):
        answer = bytes(
            client.call(stack_verifier.functions.stackCommitment(stack.p.h_w, stack.v.h_w))
        )
        if answer != stack.h_s:
            raise SensitiveModelError(
                f"partition {index}: SumKzgStackVerifier computes H_S 0x{answer.hex()} for this "
                f"stack, the model names 0x{stack.h_s.hex()}"
            )
    loaded: list[Setup] = [setup] if setup is not None else []

    def the_setup() -> Setup:
        if not loaded:
            loaded.append(load_setup())
        return loaded[0]

    def prove_and_record(matrix: _Matrix) -> TxReceipt:
        commitment = matrix.commitment
        statement = RegistrationStatement(
            chain_id=client.chain_id,
            verifier=verifier.address,
            h_w=commitment.h_w,
            m=commitment.m,
            n=commitment.n,
        )
        proof = prove_registration(
            the_setup(), commitment, matrix.weights, matrix.biases, statement
        )
        return client.send(verifier.functions.registerCommitment(commitment.m, commitment.n, proof))

    sent: dict[int, TxReceipt] = {}
    for index, single in sorted(singles.items()):
        layer = sensitive_layer(model, index)
        headers = layer_headers_abi(layer)
        known = verifier.functions.isWellFormed(single.h_w, single.setup_id, headers)
        if client.call(known):
            continue
        biases = np.asarray(layer.biases, dtype=np.int64)
        sent[index] = prove_and_record(_Matrix(single, layer.weights, biases))
    stack_sent: dict[int, tuple[TxReceipt, ...]] = {}
    recorded: dict[int, TxReceipt] = {}
    for index, stack in sorted(stacks.items()):
        stack_sent[index] = tuple(
            prove_and_record(matrix)
            for matrix in matrices[index]
            if not _known(client, verifier, matrix.commitment)
        )
        headers = partition_headers_abi(model, index)
        if client.call(stack_verifier.functions.isWellFormed(stack.h_s, stack.setup_id, headers)):
            continue
        record = stack_verifier.functions.recordStack(stack.p.h_w, stack.v.h_w, headers)
        recorded[index] = client.send(record)
    verifiers = [
        (verifier.address if i in singles else stack_verifier.address)
        if p.sensitive
        else _ZERO_ADDRESS
        for i, p in enumerate(model.partitions)
    ]
    tx = market.register_model(model, verifiers)
    return SensitiveRegistration(
        model_id=bytes(model.model_id()),
        verifier=verifier.address,
        commitment_txs=sent,
        registration_tx=tx,
        stack_verifier=stack_verifier.address if stacks else None,
        stack_commitment_txs=stack_sent,
        record_txs=recorded,
    )
