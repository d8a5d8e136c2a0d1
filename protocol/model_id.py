"""
Model identity: layer headers, weight roots, partitions and ``modelId``.

Introduction
------------
A model of ``L`` layers is identified by

    modelId = keccak256(abi.encode(keccak256("opzk.model.v1"),
                                   LayerHeader[] headers,
                                   bytes32[] weightRoots,
                                   PartitionSpec[] partitions))

    LayerHeader   = (uint32 inDim, uint32 outDim, uint32 multiplier,
                     uint8 shift, uint8 activation)
    PartitionSpec = (uint32 firstLayer, uint32 lastLayer, bool sensitive,
                     bytes32 weightCommitment, bytes32 setupId)

Layers are numbered from 1. ``weightRoots[ℓ−1]`` is layer ``ℓ``'s weight
root (:func:`protocol.weights.weight_root`) when the layer is public and
``bytes32(0)`` when it belongs to a sensitive partition. The dataclasses
below only check that their fields fit their ABI types, so that a malformed
model can still be built (to test that the registry rejects it);
:func:`validate_model_structure` checks every rule the Solidity
``ModelRegistry`` enforces, and :func:`model_id` refuses a model that
breaks one.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode

from .exceptions import InvalidModelStructureError, ProtocolError
from .keccak import keccak256
from .requant import MAX_SHIFT, MIN_SHIFT, MULTIPLIER_LIMIT, Activation
from .types import ZERO_HASH, Hash32, ModelId, hash32, require_uint

LAYER_HEADER_ABI = "(uint32,uint32,uint32,uint8,uint8)"
"""ABI type of a :class:`LayerHeader` tuple."""

PARTITION_SPEC_ABI = "(uint32,uint32,bool,bytes32,bytes32)"
"""ABI type of a :class:`PartitionSpec` tuple."""

MODEL_ID_ABI_TYPES = (
    "bytes32",
    f"{LAYER_HEADER_ABI}[]",
    "bytes32[]",
    f"{PARTITION_SPEC_ABI}[]",
)
"""The ``abi.encode`` types of the ``modelId`` preimage, in order."""

MODEL_DOMAIN = keccak256(b"opzk.model.v1")
"""Domain separator, the first word of every ``modelId`` preimage."""


@dataclass(frozen=True, slots=True)
class LayerHeader:
    """
    The public shape and requantization parameters of one ``QLinear`` layer.

    Construction checks only the ABI widths (``uint32`` dimensions and
    multiplier, ``uint8`` shift and activation); the protocol's ranges are
    checked by :func:`validate_model_structure`.
    """

    in_dim: int
    out_dim: int
    multiplier: int
    shift: int
    activation: int
    """An :class:`~protocol.requant.Activation` value (0 none, 1 relu)."""

    def __post_init__(self) -> None:
        """Reject fields that do not fit their ABI types."""
        require_uint(self.in_dim, 32, "in_dim")
        require_uint(self.out_dim, 32, "out_dim")
        require_uint(self.multiplier, 32, "multiplier")
        require_uint(self.shift, 8, "shift")
        require_uint(self.activation, 8, "activation")

    def as_abi_tuple(self) -> tuple[int, int, int, int, int]:
        """
        Return the fields in ``LAYER_HEADER_ABI`` order, for ``eth_abi``.

        Returns
        -------
        fields : `tuple`
            ``(in_dim, out_dim, multiplier, shift, activation)`` as ints.
        """
        return (
            self.in_dim,
            self.out_dim,
            self.multiplier,
            self.shift,
            int(self.activation),
        )


@dataclass(frozen=True, slots=True)
class PartitionSpec:
    """
    A contiguous range of layers ``first_layer..last_layer`` (inclusive,
    numbered from 1), public or sensitive.

    Construction checks only the ABI types; the protocol's rules are checked
    by :func:`validate_model_structure`.
    """

    first_layer: int
    last_layer: int
    sensitive: bool
    weight_commitment: Hash32
    """Hiding commitment to a sensitive partition's weights; zero if public."""
    setup_id: Hash32
    """Identifies the proof system's setup for a sensitive partition; zero if public."""

    def __post_init__(self) -> None:
        """Reject fields that do not fit their ABI types."""
        require_uint(self.first_layer, 32, "first_layer")
        require_uint(self.last_layer, 32, "last_layer")
        if not isinstance(self.sensitive, bool):
            raise InvalidModelStructureError(
                f"sensitive must be a bool, got {type(self.sensitive).__name__}"
            )
        hash32(self.weight_commitment, "weight_commitment")
        hash32(self.setup_id, "setup_id")

    def as_abi_tuple(self) -> tuple[int, int, bool, bytes, bytes]:
        """
        Return the fields in ``PARTITION_SPEC_ABI`` order, for ``eth_abi``.

        Returns
        -------
        fields : `tuple`
            ``(first_layer, last_layer, sensitive, weight_commitment,
            setup_id)``.
        """
        return (
            self.first_layer,
            self.last_layer,
            self.sensitive,
            bytes(self.weight_commitment),
            bytes(self.setup_id),
        )


def validate_model_structure(
    headers: Sequence[LayerHeader],
    weight_roots: Sequence[bytes],
    partitions: Sequence[PartitionSpec],
) -> None:
    """
    Check a model against every rule the ``ModelRegistry`` enforces.

    The rules, with ``L = len(headers)``:

    - ``L >= 1``; every layer has ``in_dim >= 1`` and ``out_dim >= 1``, and
      layer ``ℓ``'s ``in_dim`` equals layer ``ℓ−1``'s ``out_dim``;
    - every layer has ``M < 2^31``, ``1 <= k <= 62`` and an activation of 0
      or 1;
    - there are exactly ``L`` weight roots of 32 bytes;
    - the partitions are non-empty, in order, contiguous and cover
      ``1..L`` exactly, each with ``first_layer <= last_layer``;
    - a public partition has zero ``weight_commitment`` and ``setup_id``
      and a non-zero weight root for each of its layers;
    - a sensitive partition has a non-zero ``weight_commitment`` and a zero
      weight root for each of its layers.

    Parameters
    ----------
    headers :
        The layer headers, layer 1 first.
    weight_roots :
        One root per layer.
    partitions :
        The partitions, in layer order.

    Raises
    ------
    InvalidModelStructureError
        On the first rule broken, naming it.
    """
    if len(headers) == 0:
        raise InvalidModelStructureError("a model has at least one layer")
    for layer, header in enumerate(headers, start=1):
        if not isinstance(header, LayerHeader):
            raise InvalidModelStructureError(f"layer {layer}: header is not a LayerHeader")
        if header.in_dim < 1 or header.out_dim < 1:
            raise InvalidModelStructureError(f"layer {layer}: dimensions must be at least 1")
        if layer > 1 and header.in_dim != headers[layer - 2].out_dim:
            raise InvalidModelStructureError(
                f"layer {layer}: in_dim {header.in_dim} != layer {layer - 1} "
                f"out_dim {headers[layer - 2].out_dim}"
            )
        if header.multiplier >= MULTIPLIER_LIMIT:
            raise InvalidModelStructureError(f"layer {layer}: multiplier must be < 2^31")
        if header.shift < MIN_SHIFT or header.shift > MAX_SHIFT:
            raise InvalidModelStructureError(f"layer {layer}: shift must be in 1..62")
        if header.activation not in (Activation.NONE, Activation.RELU):
            raise InvalidModelStructureError(f"layer {layer}: activation must be 0 or 1")

    if len(weight_roots) != len(headers):
        raise InvalidModelStructureError(
            f"{len(weight_roots)} weight roots for {len(headers)} layers"
        )
    roots = [
        _model_hash(root, f"weight root of layer {i}") for i, root in enumerate(weight_roots, 1)
    ]

    if len(partitions) == 0:
        raise InvalidModelStructureError("a model has at least one partition")
    next_layer = 1
    for number, partition in enumerate(partitions):
        if not isinstance(partition, PartitionSpec):
            raise InvalidModelStructureError(f"partition {number}: not a PartitionSpec")
        if partition.first_layer != next_layer:
            raise InvalidModelStructureError(
                f"partition {number}: starts at layer {partition.first_layer}, "
                f"expected {next_layer}"
            )
        if partition.last_layer < partition.first_layer:
            raise InvalidModelStructureError(f"partition {number}: last_layer < first_layer")
        if partition.last_layer > len(headers):
            raise InvalidModelStructureError(
                f"partition {number}: ends at layer {partition.last_layer} of {len(headers)}"
            )
        layer_roots = roots[partition.first_layer - 1 : partition.last_layer]
        if partition.sensitive:
            if partition.weight_commitment == ZERO_HASH:
                raise InvalidModelStructureError(
                    f"partition {number}: a sensitive partition needs a weight commitment"
                )
            if any(root != ZERO_HASH for root in layer_roots):
                raise InvalidModelStructureError(
                    f"partition {number}: layers of a sensitive partition have zero weight roots"
                )
        else:
            if partition.weight_commitment != ZERO_HASH or partition.setup_id != ZERO_HASH:
                raise InvalidModelStructureError(
                    f"partition {number}: a public partition has zero weight_commitment "
                    "and setup_id"
                )
            if any(root == ZERO_HASH for root in layer_roots):
                raise InvalidModelStructureError(
                    f"partition {number}: every layer of a public partition needs a weight root"
                )
        next_layer = partition.last_layer + 1
    if next_layer != len(headers) + 1:
        raise InvalidModelStructureError(
            f"partitions cover layers 1..{next_layer - 1}, not 1..{len(headers)}"
        )


def model_id(
    headers: Sequence[LayerHeader],
    weight_roots: Sequence[bytes],
    partitions: Sequence[PartitionSpec],
) -> ModelId:
    """
    Compute a valid model's identity.

    Parameters
    ----------
    headers :
        The layer headers, layer 1 first.
    weight_roots :
        One 32-byte root per layer (zero for sensitive layers).
    partitions :
        The partitions, in layer order.

    Returns
    -------
    model_id : `ModelId`
        ``keccak256(abi.encode(MODEL_DOMAIN, headers, weightRoots,
        partitions))``.

    Raises
    ------
    InvalidModelStructureError
        If the model breaks a rule of :func:`validate_model_structure`.
    """
    validate_model_structure(headers, weight_roots, partitions)
    preimage = encode(
        MODEL_ID_ABI_TYPES,
        (
            bytes(MODEL_DOMAIN),
            [header.as_abi_tuple() for header in headers],
            [bytes(root) for root in weight_roots],
            [partition.as_abi_tuple() for partition in partitions],
        ),
    )
    return ModelId(keccak256(preimage))


def hidden_trace_indices(partitions: Sequence[PartitionSpec]) -> frozenset[int]:
    """
    Return the trace positions whose activations are hidden.

    Parameters
    ----------
    partitions :
        The model's partitions.

    Returns
    -------
    hidden : `frozenset[int]`
        Every ``i`` with ``a <= i < b`` for a sensitive partition ``a..b``:
        the outputs of a sensitive partition's layers except its last. The
        partition's input ``h_{a−1}`` and output ``h_b`` stay public.
    """
    hidden: set[int] = set()
    for partition in partitions:
        if partition.sensitive:
            hidden.update(range(partition.first_layer, partition.last_layer))
    return frozenset(hidden)


def _model_hash(value: bytes, what: str) -> Hash32:
    try:
        return hash32(value, what)
    except ProtocolError as error:
        raise InvalidModelStructureError(str(error)) from error
