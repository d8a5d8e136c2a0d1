"""
Export what the ``ModelRegistry`` needs from a model file, and its public weights file.

Usage::

    python -m models.export MODEL_FILE --out DIR

writes, for ``MODEL_FILE = path/NAME.opzkmodel``:

- ``DIR/NAME.opzkpub``: the public weights file (:func:`protocol.modelfile.encode_public_weights`:
  the model file without the weights of sensitive layers), to publish;
- ``DIR/NAME.registry.json``: the registration data, as :func:`registry_export` describes.

It prints the two paths and the model id. A file that is not a valid model file exits with status 1
and the reason on stderr; nothing is written then.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.model import QuantizedModel
from protocol.modelfile import (
    ModelFileError,
    decode_model,
    encode_public_weights,
    model_file_hash,
)

from .store import MODEL_SUFFIX, PUBLIC_SUFFIX, write_bytes_atomic

EXPORT_FORMAT = "opzk.registry-export.v1"
"""Value of the ``format`` key of an export."""

REGISTRY_SUFFIX = ".registry.json"


@dataclass(frozen=True)
class ExportedFiles:
    """The files :func:`export_model_file` wrote."""

    public_weights: Path
    registry: Path
    model_id: str


def registry_export(
    model_file: bytes, *, model_file_name: str = "", public_weights_name: str = ""
) -> dict[str, Any]:
    """
    The registration data of a model file, as a JSON-ready ``dict``.

    Parameters
    ----------
    model_file :
        The model file's bytes (decoded strictly).
    model_file_name, public_weights_name :
        File names recorded in the export (informational).

    Returns
    -------
    export : `dict`
        Keys, in this order: ``format`` (:data:`EXPORT_FORMAT`), ``model_id``,
        ``model_file``, ``model_file_hash`` (``keccak256`` of the model file),
        ``public_weights_file``, ``public_weights_hash`` (``keccak256`` of the public weights
        file), ``input_scale``, ``output_scale`` (float or ``null``), ``headers`` (one
        ``{in_dim, out_dim, multiplier, shift, activation}`` per layer, the ``LayerHeader``
        tuples of ``registerModel``), ``weight_roots`` (one per layer, zero for sensitive
        layers), ``partitions`` (``{first_layer, last_layer, sensitive, weight_commitment,
        setup_id}``, the ``PartitionSpec`` tuples). Hashes are ``0x``-prefixed lower-case hex.

    Raises
    ------
    ModelFileError
        If ``model_file`` is not a valid model file.
    """
    return _document(decode_model(model_file), model_file, model_file_name, public_weights_name)


def _document(
    model: QuantizedModel, model_file: bytes, model_file_name: str, public_weights_name: str
) -> dict[str, Any]:
    public_file = encode_public_weights(model)
    return {
        "format": EXPORT_FORMAT,
        "model_id": _hex(model.model_id()),
        "model_file": model_file_name,
        "model_file_hash": _hex(model_file_hash(model_file)),
        "public_weights_file": public_weights_name,
        "public_weights_hash": _hex(model_file_hash(public_file)),
        "input_scale": model.input_scale,
        "output_scale": model.output_scale,
        "headers": [
            {
                "in_dim": h.in_dim,
                "out_dim": h.out_dim,
                "multiplier": h.multiplier,
                "shift": h.shift,
                "activation": h.activation,
            }
            for h in model.headers()
        ],
        "weight_roots": [_hex(root) for root in model.weight_roots()],
        "partitions": [
            {
                "first_layer": p.first_layer,
                "last_layer": p.last_layer,
                "sensitive": p.sensitive,
                "weight_commitment": _hex(p.weight_commitment),
                "setup_id": _hex(p.setup_id),
            }
            for p in model.partitions
        ],
    }


def export_model_file(
    model_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]
) -> ExportedFiles:
    """
    Write a model file's public weights file and registry export into ``out_dir``.

    Parameters
    ----------
    model_path :
        ``NAME.opzkmodel`` (any name works; a trailing ``.opzkmodel`` is dropped from ``NAME``).
    out_dir :
        The directory; created if missing.

    Returns
    -------
    files : `ExportedFiles`
        ``out_dir/NAME.opzkpub``, ``out_dir/NAME.registry.json`` and the model id.

    Raises
    ------
    ModelFileError
        If the model file is invalid (nothing is written).
    OSError
        If a file cannot be read or written.
    """
    source = Path(model_path)
    data = source.read_bytes()
    name = source.name.removesuffix(MODEL_SUFFIX)
    try:
        model: QuantizedModel = decode_model(data)
    except ModelFileError as error:
        raise type(error)(f"{os.fspath(source)}: {error}") from error
    public_name = name + PUBLIC_SUFFIX
    document = _document(model, data, source.name, public_name)
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    public_path = write_bytes_atomic(target / public_name, encode_public_weights(model))
    registry_path = write_bytes_atomic(
        target / (name + REGISTRY_SUFFIX), (json.dumps(document, indent=2) + "\n").encode()
    )
    return ExportedFiles(public_path, registry_path, _hex(model.model_id()))


def main(argv: Sequence[str] | None = None) -> int:
    """
    The command line (module docstring).

    Parameters
    ----------
    argv :
        Arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    status : `int`
        0 on success, 1 if the model file is invalid or cannot be read or an output cannot be
        written (argparse exits with 2 on bad arguments).
    """
    parser = argparse.ArgumentParser(
        prog="python -m models.export",
        description="Export a model file's public weights file and registry data.",
    )
    parser.add_argument("model_file", type=Path, help="the model file (NAME.opzkmodel)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)
    try:
        files = export_model_file(args.model_file, args.out)
    except (ModelFileError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"model id       {files.model_id}")
    print(f"public weights {files.public_weights}")
    print(f"registry data  {files.registry}")
    return 0


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


if __name__ == "__main__":
    sys.exit(main())
