"""
Reading and writing model files and public weights files.

Introduction
------------
The bytes are :mod:`protocol.modelfile`'s; this module only moves them to and from disk. Writes are
atomic (a temporary file in the same directory, then ``os.replace``), so a reader never sees half a
file. A decoding error names the file it came from and keeps its
:class:`~protocol.modelfile.ModelFileError` subclass.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from protocol.model import QuantizedModel
from protocol.modelfile import (
    ModelFileError,
    PublicModel,
    decode_model,
    decode_public_weights,
    encode_model,
    encode_public_weights,
    model_file_hash,
)
from protocol.types import Hash32

MODEL_SUFFIX = ".opzkmodel"
"""Conventional suffix of a model file."""

PUBLIC_SUFFIX = ".opzkpub"
"""Conventional suffix of a public weights file."""


FILE_MODE = 0o644
"""Mode of written files (``mkstemp`` would leave 0600): model files are meant to be shared."""


@dataclass(frozen=True)
class LoadedModel:
    """A decoded model file with its bytes and their hash."""

    model: QuantizedModel
    data: bytes
    file_hash: Hash32


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """
    Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path :
        The destination; its directory must exist. An existing file is replaced; the new one
        has mode :data:`FILE_MODE`.
    data :
        The bytes.

    Returns
    -------
    path : `pathlib.Path`
        ``path`` as a ``Path``.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.chmod(temporary, FILE_MODE)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def save_model(model: QuantizedModel, path: str | os.PathLike[str]) -> Hash32:
    """
    Encode ``model`` and write it to ``path``.

    Parameters
    ----------
    model :
        A valid model (see :func:`protocol.modelfile.encode_model`).
    path :
        The destination.

    Returns
    -------
    file_hash : `Hash32`
        ``keccak256`` of the bytes written: the file's identity.

    Raises
    ------
    ProtocolError
        If the model is invalid (nothing is written).
    OSError
        If the file cannot be written.
    """
    data = encode_model(model)
    write_bytes_atomic(path, data)
    return model_file_hash(data)


def load_model_file(path: str | os.PathLike[str]) -> LoadedModel:
    """
    Read and decode a model file.

    Parameters
    ----------
    path :
        The file.

    Returns
    -------
    loaded : `LoadedModel`
        The model, the file's bytes and their hash.

    Raises
    ------
    ModelFileError
        The same subclass as :func:`protocol.modelfile.decode_model`, its message prefixed with
        the path.
    OSError
        If the file cannot be read.
    """
    data = Path(path).read_bytes()
    try:
        model = decode_model(data)
    except ModelFileError as error:
        raise type(error)(f"{os.fspath(path)}: {error}") from error
    return LoadedModel(model=model, data=data, file_hash=model_file_hash(data))


def load_model(path: str | os.PathLike[str]) -> QuantizedModel:
    """
    Read and decode a model file (see :func:`load_model_file`).

    Parameters
    ----------
    path :
        The file.

    Returns
    -------
    model : `QuantizedModel`
        The decoded model.
    """
    return load_model_file(path).model


def save_public_weights(
    model: QuantizedModel | PublicModel, path: str | os.PathLike[str]
) -> Hash32:
    """
    Encode a model's public weights file and write it to ``path``.

    Parameters
    ----------
    model :
        The full model (sensitive weights are left out) or a :class:`PublicModel`.
    path :
        The destination.

    Returns
    -------
    file_hash : `Hash32`
        ``keccak256`` of the bytes written.

    Raises
    ------
    ProtocolError
        If the model is invalid (nothing is written).
    OSError
        If the file cannot be written.
    """
    data = encode_public_weights(model)
    write_bytes_atomic(path, data)
    return model_file_hash(data)


def load_public_weights(path: str | os.PathLike[str]) -> PublicModel:
    """
    Read and decode a public weights file.

    Parameters
    ----------
    path :
        The file.

    Returns
    -------
    public : `PublicModel`
        Every header, the partitions, and the public layers' weights.

    Raises
    ------
    ModelFileError
        The same subclass as :func:`protocol.modelfile.decode_public_weights`, its message
        prefixed with the path.
    OSError
        If the file cannot be read.
    """
    data = Path(path).read_bytes()
    try:
        return decode_public_weights(data)
    except ModelFileError as error:
        raise type(error)(f"{os.fspath(path)}: {error}") from error
