"""
Accelerated backends for the prover's integer hot loops (docs/proof-system.md, prover side only).

Introduction
------------
The prover's O(N) work is integer matrix × vector products:

- :func:`field_gemv_int` / :func:`field_gemv_int_t`: a field vector times an integer matrix (the
  sumcheck's ``WeightGrid`` contractions, the registration's chunk combinations);
- :func:`int_gemv`: the layer's ``z = W·x + b``.

The numpy functions of :mod:`sumkzg.field` are the reference; every backend here returns the same
values (canonical field elements, exact integers), so the proofs are byte-identical whichever
backend runs.

Backends
--------
- ``"numpy"``: the reference functions themselves.
- ``"torch"``: ``torch`` on CUDA when available, else on CPU (or the device given to
  :func:`use_backend`). ``torch`` has no integer matmul on CUDA and its CPU ``int64`` matmul is
  ~10x slower than ``float64`` BLAS, so the matmuls run in ``float64`` on operands that make them
  **provably exact**: every operand is an integer of magnitude ``< 2^53``, and every partial sum of
  a dot product is bounded by ``Σ|a_i·b_i| < 2^53`` (the chunk sizes are chosen for it), so
  binary64 represents every intermediate value exactly and no addition or fused multiply-add ever
  rounds, in any summation order. TF32 only affects ``float32``. Everything else (limb sums,
  carries) is ``int64`` arithmetic with bounds stated where it happens.
- ``"auto"`` (the default): ``"torch"`` when ``torch.cuda.is_available()``, else ``"numpy"``.

cupy (the optional ``gpu`` extra) is not used yet; ``torch`` covers CUDA.

The backend is chosen by :func:`use_backend` (or the :func:`backend` context manager), else by the
environment variable ``OPZK_PROVER_BACKEND`` (``numpy``, ``torch``, ``auto``), else ``auto``.

Field × int product on ``torch``
--------------------------------
``out[j] = Σ_i w_i·A[i, j] mod R``: each ``w_i`` splits into 16 limbs of 16 bits (``< 2^16``). An
entry with ``|A| <= 2^16`` is used as is; otherwise (``|A| <= 2^31``) ``A = A_hi·2^16 + A_lo`` with
``A_lo ∈ [0, 2^16)``, ``|A_hi| <= 2^15``, and each part is multiplied separately, one limb higher.
With ``a`` the largest part magnitude, a chunk of ``k`` rows with ``(2^16 − 1)·a·k < 2^53`` gives
exact ``float64`` limb sums (P11). Each chunk's sums move to an ``int64`` accumulator of 18 limbs
that is carry-normalised after every chunk (limbs ``0..16`` in ``[0, 2^16)``, limb 17 signed), so
no ``int64`` value exceeds ``2^16 + 2·2^53`` before a carry. Python integers recombine the limbs at
the end.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, Literal, cast

import numpy as np
import numpy.typing as npt

from . import field
from .field import R

if TYPE_CHECKING:
    import torch

BackendName = Literal["numpy", "torch", "auto"]
"""What :func:`use_backend` accepts."""

ENV_VAR: Final = "OPZK_PROVER_BACKEND"
"""The environment variable consulted when no backend was set with :func:`use_backend`."""

BACKENDS: Final[tuple[str, ...]] = ("numpy", "torch", "auto")

_EXACT: Final = 2**53  # every integer of magnitude < 2^53 is a binary64 value
_LIMB_BITS: Final = 16
_LIMB_MASK: Final = (1 << _LIMB_BITS) - 1
_LIMBS: Final = 16
_ACC_LIMBS: Final = 18  # limb 17 (signed) holds total >> 272: below 2^62 for < 2^45 rows
_MAX_ROWS: Final = 2**40
_MAX_ABS_ENTRY: Final = 2**31
# Bound the float64 copy of one chunk of the matrix to about 32 MiB on the CPU.
_MAX_CHUNK_ELEMENTS_CPU = 2**22
_MAX_CHUNK_ELEMENTS_CUDA: Final = 2**27
# Below this many matrix entries the numpy reference is faster than any transfer or dispatch.
MIN_ACCEL_ELEMENTS = 2**15

_choice: BackendName | None = None
_device: str | None = None


# --------------------------------------------------------------------------------------------------
# Selection


def _torch_cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def use_backend(name: BackendName | None, device: str | None = None) -> None:
    """
    Choose the backend of the dispatch functions for this process.

    Parameters
    ----------
    name :
        ``"numpy"``, ``"torch"`` or ``"auto"``; ``None`` goes back to the environment variable
        ``OPZK_PROVER_BACKEND`` (else ``"auto"``).
    device :
        For ``"torch"``: a ``torch`` device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``); by default
        CUDA when available, else CPU.

    Raises
    ------
    ValueError
        On an unknown name, or a CUDA device without CUDA.
    """
    global _choice, _device
    if name is not None and name not in BACKENDS:
        raise ValueError(f"unknown prover backend {name!r}; expected one of {BACKENDS}")
    if device is not None and device.startswith("cuda") and not _torch_cuda_available():
        raise ValueError(f"torch device {device!r} requested but CUDA is not available")
    _choice = name
    _device = device


@contextlib.contextmanager
def backend(name: BackendName | None, device: str | None = None) -> Iterator[None]:
    """
    Use a backend inside a ``with`` block, then restore the previous choice.

    Parameters
    ----------
    name, device :
        As for :func:`use_backend`.
    """
    previous = (_choice, _device)
    use_backend(name, device)
    try:
        yield
    finally:
        use_backend(*previous)


def active_backend() -> Literal["numpy", "torch"]:
    """
    Return the backend the dispatch functions use now (``"auto"`` resolved).

    Raises
    ------
    ValueError
        If ``OPZK_PROVER_BACKEND`` holds an unknown name.
    """
    name: str = _choice or os.environ.get(ENV_VAR, "").strip().lower() or "auto"
    if name not in BACKENDS:
        raise ValueError(f"{ENV_VAR}={name!r}; expected one of {BACKENDS}")
    if name == "auto":
        return "torch" if _torch_cuda_available() else "numpy"
    return cast(Literal["numpy", "torch"], name)


def torch_device() -> torch.device:
    """Return the ``torch`` device of the ``"torch"`` backend (CUDA when available, else CPU)."""
    import torch

    if _device is not None:
        return torch.device(_device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# --------------------------------------------------------------------------------------------------
# Dispatch


def field_gemv_int(weights: Sequence[int], matrix: npt.NDArray[np.integer]) -> list[int]:
    """
    Return ``out[j] = Σ_i weights[i]·matrix[i, j] mod R`` on the active backend.

    Same contract as :func:`sumkzg.field.field_gemv_int` (the reference), same values.

    Parameters
    ----------
    weights :
        Field elements, one per row.
    matrix :
        A 2-D integer array with ``len(weights)`` rows and entries of magnitude ``<= 2^31``.

    Returns
    -------
    out : `list[int]`
        One field element per column.
    """
    matrix = np.asarray(matrix)
    if active_backend() == "numpy" or matrix.size < MIN_ACCEL_ELEMENTS:
        return field.field_gemv_int(weights, matrix)
    return torch_field_gemv_int(weights, matrix)


def field_gemv_int_t(weights: Sequence[int], matrix: npt.NDArray[np.integer]) -> list[int]:
    """
    Return ``out[i] = Σ_j matrix[i, j]·weights[j] mod R`` on the active backend.

    Same contract as :func:`sumkzg.field.field_gemv_int_t` (the reference), same values.
    """
    return field_gemv_int(weights, np.asarray(matrix).T)


def int_gemv(
    matrix: npt.NDArray[np.integer],
    x: npt.NDArray[np.integer],
    bias: npt.NDArray[np.integer] | None = None,
) -> npt.NDArray[np.int64]:
    """
    Return ``matrix·x + bias`` as exact ``int64`` on the active backend.

    The reference is ``matrix.astype(int64) @ x.astype(int64) + bias``; the ``torch`` backend is
    used only when ``max|matrix|·max|x|·n < 2^53`` (exact ``float64``), else the reference runs.

    Parameters
    ----------
    matrix :
        ``(m, n)`` integers.
    x :
        ``(n,)`` integers.
    bias :
        ``(m,)`` integers, or ``None`` for zero.

    Returns
    -------
    z : `numpy.ndarray`
        ``(m,)`` ``int64``.
    """
    matrix = np.asarray(matrix)
    x = np.asarray(x)
    if active_backend() == "torch" and matrix.size >= MIN_ACCEL_ELEMENTS:
        z = torch_int_gemv(matrix, x)
        if z is not None:
            return z if bias is None else z + np.asarray(bias).astype(np.int64)
    out = matrix.astype(np.int64) @ x.astype(np.int64)
    return out if bias is None else out + np.asarray(bias).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# torch


def _entry_bound(matrix: npt.NDArray[np.integer]) -> int:
    """``max |entry|`` (a dtype bound for 8- and 16-bit types, else measured)."""
    if matrix.dtype.itemsize <= 2:
        return 1 << (8 * matrix.dtype.itemsize)
    if matrix.size == 0:
        return 0
    return max(abs(int(matrix.min())), abs(int(matrix.max())))


def _to_torch(matrix: npt.NDArray[np.integer], device: torch.device) -> torch.Tensor:
    """The matrix on ``device`` in its own (narrow) integer dtype, to keep transfers small."""
    import torch

    if matrix.dtype not in (np.int8, np.uint8, np.int16, np.int32, np.int64):
        matrix = matrix.astype(np.int64)
    if any(s < 0 for s in matrix.strides):
        matrix = np.ascontiguousarray(matrix)
    return torch.from_numpy(matrix).to(device)


def _carry(acc: torch.Tensor) -> None:
    """Carry-normalise ``acc`` in place: limbs ``0..L−2`` into ``[0, 2^16)``, the top one signed."""
    for limb in range(acc.shape[0] - 1):
        carry = acc[limb] >> _LIMB_BITS  # arithmetic shift: floor division by 2^16
        acc[limb] -= carry << _LIMB_BITS
        acc[limb + 1] += carry


def _recombine(acc: npt.NDArray[np.int64]) -> list[int]:
    """``Σ_l acc[l, j]·2^(16 l) mod R`` per column of a carry-normalised accumulator."""
    low = np.ascontiguousarray(acc[:-1].T).astype("<u2")  # (cols, L−1), every limb in [0, 2^16)
    width = 2 * (acc.shape[0] - 1)
    blob = low.tobytes()
    shift = _LIMB_BITS * (acc.shape[0] - 1)
    top = acc[-1].tolist()
    return [
        (int.from_bytes(blob[j * width : (j + 1) * width], "little") + (int(t) << shift)) % R
        for j, t in enumerate(top)
    ]


def torch_field_gemv_int(
    weights: Sequence[int], matrix: npt.NDArray[np.integer], device: str | None = None
) -> list[int]:
    """
    :func:`sumkzg.field.field_gemv_int` on ``torch`` (module docstring: exact ``float64`` chunks).

    Parameters
    ----------
    weights :
        Field elements, one per row.
    matrix :
        A 2-D integer array with ``len(weights)`` rows and entries of magnitude ``<= 2^31``.
    device :
        A ``torch`` device string; by default :func:`torch_device`.

    Returns
    -------
    out : `list[int]`
        One field element per column, equal to the reference's.

    Raises
    ------
    ValueError
        On a shape mismatch, an entry out of range or more than ``2^40`` rows.
    TypeError
        On a non-integer matrix.
    """
    import torch

    matrix = np.asarray(matrix)
    field._check_int_matrix(matrix)
    rows, cols = matrix.shape
    if rows != len(weights):
        raise ValueError(f"{len(weights)} weights for a matrix with {rows} rows")
    if rows > _MAX_ROWS:
        raise ValueError(f"{rows} rows exceed the accumulator bound of 2^40")
    if cols == 0:
        return []
    if rows == 0:
        return [0] * cols
    dev = torch.device(device) if device is not None else torch_device()
    bound = _entry_bound(matrix)
    if bound > _MAX_ABS_ENTRY:
        raise ValueError("matrix entries must satisfy |entry| ≤ 2^31")
    split = bound > 1 << _LIMB_BITS
    part_bound = max(1, 1 << _LIMB_BITS if split else bound)
    # (2^16 − 1)·part_bound·chunk < 2^53: every float64 partial sum is an exact integer.
    exact_rows = (_EXACT - 1) // (_LIMB_MASK * part_bound)
    max_elements = _MAX_CHUNK_ELEMENTS_CUDA if dev.type == "cuda" else _MAX_CHUNK_ELEMENTS_CPU
    chunk = max(1, min(exact_rows, max_elements // cols))

    limbs_t = torch.from_numpy(np.ascontiguousarray(field._weight_limbs(weights).T)).to(dev)
    limbs_f = limbs_t.to(torch.float64)  # (16, rows), entries < 2^16: exact
    source = _to_torch(matrix, dev)
    acc = torch.zeros((_ACC_LIMBS, cols), dtype=torch.int64, device=dev)
    for begin in range(0, rows, chunk):
        end = min(rows, begin + chunk)
        block = source[begin:end]
        lhs = limbs_f[:, begin:end]
        if split:
            block = block.to(torch.int64)
            low = block & _LIMB_MASK  # [0, 2^16)
            high = block >> _LIMB_BITS  # |high| <= 2^15
            acc[:_LIMBS] += (lhs @ low.to(torch.float64)).to(torch.int64)
            acc[1 : _LIMBS + 1] += (lhs @ high.to(torch.float64)).to(torch.int64)
        else:
            acc[:_LIMBS] += (lhs @ block.to(torch.float64)).to(torch.int64)
        _carry(acc)
    return _recombine(acc.cpu().numpy())


def torch_field_gemv_int_t(
    weights: Sequence[int], matrix: npt.NDArray[np.integer], device: str | None = None
) -> list[int]:
    """:func:`sumkzg.field.field_gemv_int_t` on torch (:func:`torch_field_gemv_int` of ``Aᵀ``)."""
    return torch_field_gemv_int(weights, np.asarray(matrix).T, device)


def torch_int_gemv(
    matrix: npt.NDArray[np.integer], x: npt.NDArray[np.integer], device: str | None = None
) -> npt.NDArray[np.int64] | None:
    """
    ``matrix·x`` on ``torch`` in exact ``float64``, or ``None`` when that is not provably exact.

    Parameters
    ----------
    matrix :
        ``(m, n)`` integers.
    x :
        ``(n,)`` integers.
    device :
        A ``torch`` device string; by default :func:`torch_device`.

    Returns
    -------
    z : `numpy.ndarray` or `None`
        ``(m,)`` ``int64``, equal to ``matrix.astype(int64) @ x.astype(int64)``; ``None`` unless
        ``max|matrix|·max|x|·n < 2^53`` (then every partial sum is an exact binary64 integer).

    Raises
    ------
    ValueError
        On a shape mismatch.
    """
    import torch

    matrix = np.asarray(matrix)
    x = np.asarray(x)
    if matrix.ndim != 2 or x.shape != (matrix.shape[1],):
        raise ValueError(f"shapes {matrix.shape} and {x.shape} do not multiply")
    if not (np.issubdtype(matrix.dtype, np.integer) and np.issubdtype(x.dtype, np.integer)):
        raise TypeError("int_gemv needs integer operands")
    if matrix.size == 0:
        return np.zeros(matrix.shape[0], dtype=np.int64)
    if _entry_bound(matrix) * _entry_bound(x) * matrix.shape[1] >= _EXACT:
        return None
    dev = torch.device(device) if device is not None else torch_device()
    lhs = _to_torch(matrix, dev).to(torch.float64)
    rhs = _to_torch(x, dev).to(torch.float64)
    return cast(npt.NDArray[np.int64], (lhs @ rhs).to(torch.int64).cpu().numpy())
