"""
Sensitive (private-weight) layers: making one, keeping its secret, registering it on-chain.

Introduction
------------
A model owner who wants a layer's weights private turns it into a one-layer **sensitive
partition** (SumKZG-ML v1 proves one ``QLinear`` layer, docs/proof-system.md §3):

1. :func:`make_sensitive` commits to the layer's weights (:func:`sumkzg.commit_weights`: chunked
   KZG commitments made hiding by a random blinding column) and returns the same model with that
   layer as ``PartitionSpec(sensitive=True, weight_commitment=H_W, setup_id=SETUP_ID)``, the other
   layers staying public. The model id changes (it covers the partitions), the outputs do not.
2. The :class:`~sumkzg.WeightCommitment` holds the **secret** blinding column: every later proof
   needs it, and it cannot be recomputed. :func:`write_sidecar` keeps it next to the model file in
   the **commitment sidecar** ``<model file>.commitment.json`` (mode 0600, written atomically);
   :func:`load_sidecar` reads it back and checks it against the model. Format::

       {"format": "opzk.sensitive-commitments.v1",
        "model_id": "0x…",
        "partitions": [{"partition": 1, "layer": 2, "commitment": {…WeightCommitment.to_json…}}]}

3. :func:`register_sensitive_model` proves each commitment well-formed
   (:func:`sumkzg.prove_registration`), records it with the deployment's ``SumKzgVerifier``
   (``registerCommitment``; skipped when the verifier already has it), then registers the model
   in ``ModelRegistry`` with that verifier for every sensitive partition. The registry refuses a
   sensitive partition whose commitment its verifier has not recorded (``CommitmentNotWellFormed``).

``opzk node register-model --sensitive-layer N`` drives all three (:mod:`node.cli`).
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

if TYPE_CHECKING:
    from web3.types import TxReceipt

    from opzk.marketplace import Marketplace

SIDECAR_SUFFIX = ".commitment.json"
"""Appended to the model file's name: ``x.opzkmodel`` → ``x.opzkmodel.commitment.json``."""

SIDECAR_FORMAT = "opzk.sensitive-commitments.v1"
"""The ``format`` field of a sidecar."""

SIDECAR_MODE = 0o600
"""A sidecar holds secret blinding values: readable by its owner only."""

_ZERO_ADDRESS = "0x" + "00" * 20


class SensitiveModelError(OpzkError):
    """A layer cannot be made sensitive, or a sensitive model cannot be registered."""


class SidecarError(SensitiveModelError):
    """A commitment sidecar is missing, malformed, or does not belong to the model."""


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
    split: list[PartitionSpec] = []
    if old.first_layer < layer:
        split.append(PartitionSpec(old.first_layer, layer - 1, False, ZERO_HASH, ZERO_HASH))
    split.append(
        PartitionSpec(layer, layer, True, Hash32(commitment.h_w), Hash32(commitment.setup_id))
    )
    if layer < old.last_layer:
        split.append(PartitionSpec(layer + 1, old.last_layer, False, ZERO_HASH, ZERO_HASH))
    partitions = (*model.partitions[:index], *split, *model.partitions[index + 1 :])
    return replace(model, partitions=partitions), commitment


def sensitive_layer(model: QuantizedModel, partition: int) -> QLinearLayer:
    """
    The one layer of sensitive partition ``partition``.

    Raises
    ------
    SensitiveModelError
        If the partition does not exist, is public, or covers more than one layer (SumKZG-ML v1
        proves one-layer partitions).
    """
    if not 0 <= partition < len(model.partitions):
        raise SensitiveModelError(
            f"partition {partition} does not exist (the model has {len(model.partitions)})"
        )
    spec = model.partitions[partition]
    if not spec.sensitive:
        raise SensitiveModelError(f"partition {partition} is public")
    if spec.first_layer != spec.last_layer:
        raise SensitiveModelError(
            f"partition {partition} covers layers {spec.first_layer}..{spec.last_layer}: "
            "SumKZG-ML v1 proves one-layer sensitive partitions only"
        )
    return model.layers[spec.first_layer - 1]


def check_commitment(model: QuantizedModel, partition: int, commitment: WeightCommitment) -> None:
    """
    Check that ``commitment`` is the one of sensitive partition ``partition`` of ``model``.

    Raises
    ------
    SensitiveModelError
        If the partition is not a one-layer sensitive partition, or the commitment's ``H_W``,
        shape or setup is not the partition's.
    """
    layer = sensitive_layer(model, partition)
    spec = model.partitions[partition]
    if commitment.h_w != bytes(spec.weight_commitment):
        raise SensitiveModelError(
            f"partition {partition}: the commitment's H_W 0x{commitment.h_w.hex()} is not the "
            f"model's 0x{bytes(spec.weight_commitment).hex()}"
        )
    if (commitment.m, commitment.n) != (layer.out_dim, layer.in_dim):
        raise SensitiveModelError(
            f"partition {partition}: the commitment is for a {commitment.m}×{commitment.n} layer, "
            f"the model's is {layer.out_dim}×{layer.in_dim}"
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
    model: QuantizedModel, commitments: WeightCommitment | Mapping[int, WeightCommitment]
) -> dict[int, WeightCommitment]:
    """``commitments`` keyed by partition index (a bare commitment: the partition with its H_W)."""
    if isinstance(commitments, WeightCommitment):
        matching = [
            i
            for i in sensitive_partitions(model)
            if bytes(model.partitions[i].weight_commitment) == commitments.h_w
        ]
        if not matching:
            raise SensitiveModelError(
                f"no sensitive partition of the model has weight commitment "
                f"0x{commitments.h_w.hex()}"
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


def write_sidecar(
    model_path: str | os.PathLike[str],
    model: QuantizedModel,
    commitments: WeightCommitment | Mapping[int, WeightCommitment],
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
        A commitment (of the partition with its ``H_W``), or commitments by partition index.

    Returns
    -------
    path : `pathlib.Path`
        The sidecar's path (:func:`sidecar_path`).

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
    document = {
        "format": SIDECAR_FORMAT,
        "model_id": "0x" + bytes(model.model_id()).hex(),
        "partitions": [
            {
                "partition": index,
                "layer": model.partitions[index].first_layer,
                "commitment": json.loads(commitment.to_json()),
            }
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
) -> dict[int, WeightCommitment]:
    """
    Read the commitment sidecar of the model file ``model_path`` and check it against ``model``.

    Returns
    -------
    commitments : `dict`
        Partition index → :class:`~sumkzg.WeightCommitment`, one per sensitive partition.

    Raises
    ------
    SidecarError
        If the sidecar is missing or unreadable, malformed, for another model, or lacks or
        mismatches a sensitive partition's commitment.
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
        if document.get("format") != SIDECAR_FORMAT:
            raise SidecarError(
                f"{path} has format {document.get('format')!r}, expected {SIDECAR_FORMAT!r}"
            )
        model_id = "0x" + bytes(model.model_id()).hex()
        if str(document["model_id"]).lower() != model_id:
            raise SidecarError(
                f"{path} is for model {document['model_id']}, not {model_id} (the model file "
                "was changed or the sidecar belongs to another file)"
            )
        found: dict[int, WeightCommitment] = {}
        for entry in document["partitions"]:
            index = int(entry["partition"])
            found[index] = WeightCommitment.from_json(json.dumps(entry["commitment"]))
    except SidecarError:
        raise
    except (KeyError, TypeError, ValueError, SumKzgError) as error:
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


@dataclass(frozen=True)
class SensitiveRegistration:
    """What :func:`register_sensitive_model` did."""

    model_id: bytes
    verifier: str
    """The ``SumKzgVerifier`` named for every sensitive partition."""
    commitment_txs: dict[int, TxReceipt]
    """Partition index → the ``registerCommitment`` receipt (absent when already recorded)."""
    registration_tx: TxReceipt
    """The ``registerModel`` receipt."""


def register_sensitive_model(
    market: Marketplace,
    model: QuantizedModel,
    commitments: WeightCommitment | Mapping[int, WeightCommitment],
    *,
    setup: Setup | None = None,
) -> SensitiveRegistration:
    """
    Prove each sensitive partition's commitment well-formed, record it with the deployment's
    ``SumKzgVerifier``, and register the model with that verifier (as ``market``'s account).

    Parameters
    ----------
    market :
        The deployment, acting as the registering account (the model's owner).
    model :
        The model; every sensitive partition must be one layer.
    commitments :
        A commitment (of the partition with its ``H_W``) or commitments by partition index,
        covering every sensitive partition (:func:`load_sidecar`'s result fits).
    setup :
        The proof system's setup; :func:`sumkzg.load_setup` when omitted.

    Returns
    -------
    registration : `SensitiveRegistration`
        The model id, the verifier and the receipts.

    Raises
    ------
    SensitiveModelError
        If a commitment is missing or not its partition's.
    protocol.errors.ContractError
        The decoded revert of a step (e.g. ``InvalidRegistrationProof``,
        ``ModelAlreadyRegistered``); nothing after it is sent.
    """
    from deploy.deployer import PROOF_VERIFIER

    by_partition = _by_partition(model, commitments)
    missing = [i for i in sensitive_partitions(model) if i not in by_partition]
    if missing:
        raise SensitiveModelError(f"no commitment for sensitive partition(s) {missing}")
    client = market.client
    address = market.deployment.address(PROOF_VERIFIER)
    verifier = client.contract(address, market.deployment.abis[PROOF_VERIFIER])
    sent: dict[int, TxReceipt] = {}
    for index, commitment in sorted(by_partition.items()):
        layer = sensitive_layer(model, index)
        headers = layer_headers_abi(layer)
        known = verifier.functions.isWellFormed(commitment.h_w, commitment.setup_id, headers)
        if client.call(known):
            continue
        statement = RegistrationStatement(
            chain_id=client.chain_id,
            verifier=verifier.address,
            h_w=commitment.h_w,
            m=commitment.m,
            n=commitment.n,
        )
        proof = prove_registration(
            setup if setup is not None else load_setup(),
            commitment,
            layer.weights,
            layer.biases,
            statement,
        )
        sent[index] = client.send(
            verifier.functions.registerCommitment(commitment.m, commitment.n, proof)
        )
    verifiers = [verifier.address if p.sensitive else _ZERO_ADDRESS for p in model.partitions]
    tx = market.register_model(model, verifiers)
    return SensitiveRegistration(
        model_id=bytes(model.model_id()),
        verifier=verifier.address,
        commitment_txs=sent,
        registration_tx=tx,
    )
