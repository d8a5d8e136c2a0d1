"""
The weight commitment and the registration (well-formedness) proof (docs/proof-system.md §4).

Introduction
------------
:func:`commit_weights` lays ``W′`` out over the domain (data column ``c`` — ``W``'s columns
``0..n−1``, then the bias as ``c = n`` — at layout column ``pos(c) = c + ⌊c/g⌋``, and in the last
column of every weight chunk a uniformly random blinding column from :mod:`secrets`, see
:class:`~sumkzg.layout.Layout`), commits it in ``K_W`` chunks and returns a
:class:`WeightCommitment`: the chunk commitments, ``H_W``, and the ``K_W·m'`` blinding entries that
every later proof needs (serializable with :meth:`WeightCommitment.to_json` /
:meth:`WeightCommitment.to_bytes`, to be stored next to the model; the blinding is secret). Every
chunk holds ``m'`` blinding entries that the relations never multiply, so every chunk commitment is
perfectly hiding.

:func:`prove_registration` proves, for every row ``i < m'``, ``W′(i, pos(c)) + 128 ∈ [0, 256)``
for ``c < n`` and ``W′(i, pos(n)) + 2^31 = Σ_{t<4} 2^{8t}·BL(i, posB(t))`` with bytes ``BL``, by one
logUp lookup into the byte table; :func:`verify_registration` checks such a proof against a
:class:`~sumkzg.statement.RegistrationStatement`. The relation (§4)::

    A_R = δn(j)·W′ + δn(j)·2^31 − cb(j)·BL          zero-checked per row: eq(τ, i)·A_R
    B1  = selW(j)·HW + selB(j)·HB − Mu·Tα            summed
    B2W = eq(τ″_i, i)·eW″(j)·(HW·(α − W′ − 128) − 1)    eW″(j) = selW(j)·eq(τ″_j, j)
    B2B = eq(τ″_i, i)·eB″(j)·(HB·(α − BL) − 1)          eB″(j) = selB(j)·eq(τ″_j, j)
    F   = eq(τ,i)·A_R + γ·B1 + γ²·B2W + γ³·B2B,     Σ F = 0

v2 (docs/proof-system-zk.md) makes the proof zero knowledge: the bias limb column ``t < 4`` of
``BL`` and ``HB`` sits at ``posB(t) = t + ⌊t/g⌋`` (so the last column of every chunk is free), and
``BL``, ``HW``, ``HB`` carry two fresh blinding entries in **every** chunk (rows 0 and 1 of the
chunk's free column, resp. of the weight chunk's blinding column), ``Mu`` two, all where every term
vanishes (Z2); the sumcheck runs on
``F + ρ_L·G`` (Libra, Z5) from the claim ``ρ_L·Γ``, and the opening is masked (Z6).

The chunk helpers at the end (:func:`commit_chunks`, :func:`weight_flat`, :func:`inverse_lookup`)
are shared with :mod:`sumkzg.inference`; the transcript rounds and the batched opening are in
:mod:`sumkzg.batch`.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import G1Point

from .batch import (
    DegenerateDrawError,
    Flat,
    ZkMasks,
    open_batched,
    round1_challenges,
    round2_challenges,
    start_transcript,
    verify_batched,
    with_fresh_masks,
)
from .curve import commit, decode_g1, encode_g1, g1_mul, msm
from .errors import EncodingError, ProofRejected, SetupError, WitnessError
from .field import (
    R,
    batch_inv,
    eq_table,
    scalar_from_bytes,
    scalar_to_bytes,
)
from .layout import (
    BIAS_LIMBS,
    BIAS_OFFSET,
    BYTE_TABLE_SIZE,
    WEIGHT_OFFSET,
    Layout,
    LayoutError,
    c_b_column,
    column_eq_values,
    delta_n_column,
    registration_public_evals,
    sel_b_column,
    sel_w_column,
    t_alpha_values,
)
from .libra import LibraAddend, random_nonzero_vector
from .proof import RegistrationProof, scalars_bytes, weight_commitment_hash
from .setup import D, Setup
from .statement import RegistrationStatement
from .sumcheck import (
    Grid,
    ObjArray,
    SumcheckProver,
    Table,
    Term,
    Vec,
    obj_array,
    prove_rounds,
    verify_rounds,
)
from .transcript import (
    DOMAIN_REGISTRATION,
    Transcript,
)

GridArray = TypeVar("GridArray", ObjArray, npt.NDArray[np.int64])
"""A grid or flat vector of field elements (``object``) or of small integers (int64)."""

COMMITMENT_VERSION = 2
"""The :class:`WeightCommitment` document format: 2 since every weight chunk has its own blinding
column (docs/proof-system.md §4); version 1 (one blinding column, hiding only the chunk that held
it) is refused."""
_COMMITMENT_MAGIC = b"SUMKZG-ML/v1/weight-commitment/2"
_COMMITMENT_MAGIC_V1 = b"SUMKZG-ML/v1/weight-commitment"
_V1_REFUSED = (
    "a version 1 weight commitment: the SumKZG-ML weight layout changed (every weight chunk now "
    "has its own blinding column, docs/proof-system.md §4), so its chunks and H_W are not valid "
    "any more; re-commit the model's weights (and register the new commitment)"
)
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


# --------------------------------------------------------------------------------------------------
# The weight commitment
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightCommitment:
    """
    The commitment to one layer's weights and what its prover keeps.

    Attributes
    ----------
    m, n :
        The layer's shape.
    chunks :
        ``C_W[0..K_W)``, the 128-byte encodings of the chunk commitments.
    h_w :
        ``keccak256(C_W[0] ‖ … ‖ C_W[K_W−1])``, the partition's ``weightCommitment``.
    blinding :
        The ``K_W·m'`` blinding entries, chunk-major: entry ``κ·m' + i`` is ``W′(i, cpc·κ + g)``,
        row ``i`` of chunk ``κ``'s blinding column (secret: they make every chunk hiding).
    setup_id :
        The id of the setup the chunks were computed with.
    """

    m: int
    n: int
    chunks: tuple[bytes, ...]
    h_w: bytes
    blinding: tuple[int, ...]
    setup_id: bytes

    def __post_init__(self) -> None:
        """Check the sizes, the encodings and that the chunks hash to ``h_w``."""
        layout = Layout.of(self.m, self.n)
        if len(self.chunks) != layout.k_w:
            raise EncodingError(f"{len(self.chunks)} weight chunks, expected {layout.k_w}")
        if len(self.blinding) != layout.blinding_size:
            raise EncodingError(
                f"{len(self.blinding)} blinding entries, expected K_W·m' = {layout.blinding_size}"
            )
        if any(not 0 <= v < R for v in self.blinding):
            raise EncodingError("a blinding entry is not a canonical scalar")
        if len(self.setup_id) != 32:
            raise EncodingError("setup id must be 32 bytes")
        points = [decode_g1(c) for c in self.chunks]
        if weight_commitment_hash(points) != self.h_w:
            raise EncodingError("the weight chunks do not hash to h_w")

    @property
    def layout(self) -> Layout:
        """The shape's :class:`~sumkzg.layout.Layout`."""
        return Layout.of(self.m, self.n)

    def chunk_points(self) -> list[G1Point]:
        """The chunk commitments as points."""
        return [decode_g1(c) for c in self.chunks]

    def to_json(self) -> str:
        """A JSON document with every field (hex strings), for storage next to the model."""
        return json.dumps(
            {
                "version": COMMITMENT_VERSION,
                "setup_id": "0x" + self.setup_id.hex(),
                "m": self.m,
                "n": self.n,
                "h_w": "0x" + self.h_w.hex(),
                "chunks": ["0x" + c.hex() for c in self.chunks],
                "blinding": ["0x" + scalar_to_bytes(v).hex() for v in self.blinding],
            },
            indent=1,
        )

    @staticmethod
    def from_json(text: str) -> WeightCommitment:
        """
        Parse :meth:`to_json`'s output.

        Raises
        ------
        EncodingError
            If the document is malformed or inconsistent, or of version 1 (the layout changed:
            the model must be re-committed).
        """
        try:
            doc = json.loads(text)
            if doc["version"] == 1:
                raise EncodingError(_V1_REFUSED)
            if doc["version"] != COMMITMENT_VERSION:
                raise EncodingError(f"unknown weight commitment version {doc['version']!r}")
            return WeightCommitment(
                m=int(doc["m"]),
                n=int(doc["n"]),
                chunks=tuple(_unhex(c) for c in doc["chunks"]),
                h_w=_unhex(doc["h_w"]),
                blinding=tuple(scalar_from_bytes(_unhex(v)) for v in doc["blinding"]),
                setup_id=_unhex(doc["setup_id"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise EncodingError(f"malformed weight commitment document: {error}") from error

    def to_bytes(self) -> bytes:
        """
        ``magic ‖ setup_id ‖ m (4) ‖ n (4) ‖ chunks (128 each) ‖ blinding (32 each)``; the magic is
        ``SUMKZG-ML/v1/weight-commitment/2`` (format version 2, ``K_W·m'`` blinding entries).
        """
        return (
            _COMMITMENT_MAGIC
            + self.setup_id
            + self.m.to_bytes(4, "big")
            + self.n.to_bytes(4, "big")
            + b"".join(self.chunks)
            + scalars_bytes(self.blinding)
        )

    @staticmethod
    def from_bytes(data: bytes) -> WeightCommitment:
        """
        Parse :meth:`to_bytes`'s output.

        Raises
        ------
        EncodingError
            If the bytes are malformed or inconsistent, or of version 1 (the layout changed: the
            model must be re-committed).
        """
        head = len(_COMMITMENT_MAGIC)
        if data[:head] != _COMMITMENT_MAGIC:
            if data.startswith(_COMMITMENT_MAGIC_V1):
                raise EncodingError(_V1_REFUSED)
            raise EncodingError("not a weight commitment")
        if len(data) < head + 40:
            raise EncodingError("not a weight commitment")
        setup_id = data[head : head + 32]
        m = int.from_bytes(data[head + 32 : head + 36], "big")
        n = int.from_bytes(data[head + 36 : head + 40], "big")
        try:
            layout = Layout.of(m, n)
        except LayoutError as error:
            raise EncodingError(f"weight commitment of a refused shape: {error}") from error
        body = data[head + 40 :]
        if len(body) != 128 * layout.k_w + 32 * layout.blinding_size:
            raise EncodingError("weight commitment of the wrong length")
        chunks = tuple(body[128 * c : 128 * c + 128] for c in range(layout.k_w))
        tail = body[128 * layout.k_w :]
        blinding = tuple(
            scalar_from_bytes(tail[32 * i : 32 * i + 32]) for i in range(layout.blinding_size)
        )
        return WeightCommitment(
            m=m,
            n=n,
            chunks=chunks,
            h_w=weight_commitment_hash([decode_g1(c) for c in chunks]),
            blinding=blinding,
            setup_id=setup_id,
        )


def _unhex(text: object) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise EncodingError(f"expected a 0x hex string, got {text!r}")
    return bytes.fromhex(text[2:])


def check_weights(
    weights: npt.NDArray[np.integer], biases: npt.NDArray[np.integer]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """
    Check a layer's weights and biases and return them as int64.

    Raises
    ------
    WitnessError
        If ``weights`` is not a 2-D ``int8`` array or ``biases`` not an integer array of shape
        ``(m,)`` fitting int32.
    """
    if not isinstance(weights, np.ndarray) or weights.dtype != np.int8 or weights.ndim != 2:
        raise WitnessError("weights must be a two-dimensional int8 array")
    if not isinstance(biases, np.ndarray) or not np.issubdtype(biases.dtype, np.integer):
        raise WitnessError("biases must be an integer numpy array")
    if biases.shape != (weights.shape[0],):
        raise WitnessError(f"biases must have shape ({weights.shape[0]},), got {biases.shape}")
    if biases.size and (int(biases.min()) < _INT32_MIN or int(biases.max()) > _INT32_MAX):
        raise WitnessError("biases must fit int32")
    return weights.astype(np.int64), biases.astype(np.int64)


def _check_setup(setup: Setup) -> None:
    if setup.size != D:
        raise SetupError(f"SumKZG-ML v1 needs a setup of {D} points, got {setup.size}")


def commit_weights(
    setup: Setup,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    *,
    rng: random.Random | None = None,
) -> WeightCommitment:
    """
    Commit a layer's weights: lay out ``W′``, draw every chunk's blinding column, commit the chunks.

    Parameters
    ----------
    setup :
        The setup (``D`` points).
    weights :
        ``W``, ``int8`` of shape ``(m, n)`` with ``1 <= m, n <= 65534`` and ``ℓ <= 24``.
    biases :
        ``b``, integers of shape ``(m,)`` fitting int32.
    rng :
        TESTS ONLY: a deterministic source of the blinding columns (:func:`draw_blinding`).
        ``None`` (the default) draws them from :mod:`secrets`, which every real commitment must do
        (a known blinding column makes its chunk's commitment not hiding).

    Returns
    -------
    commitment : `WeightCommitment`
        The chunks, ``H_W`` and the ``K_W·m'`` blinding entries.

    Raises
    ------
    WitnessError
        If the weights or biases are malformed.
    LayoutError
        If the shape is refused.
    """
    _check_setup(setup)
    w, b = check_weights(weights, biases)
    layout = Layout.of(int(w.shape[0]), int(w.shape[1]))
    blinding = draw_blinding(layout, rng=rng)
    chunks = commit_weight_chunks(setup, layout, weight_flat(layout, w, b), blinding)
    return WeightCommitment(
        m=layout.m,
        n=layout.n,
        chunks=tuple(encode_g1(c) for c in chunks),
        h_w=weight_commitment_hash(chunks),
        blinding=tuple(blinding),
        setup_id=setup.setup_id,
    )


def draw_blinding(layout: Layout, *, rng: random.Random | None = None) -> list[int]:
    """
    The ``K_W·m'`` blinding entries of a weight commitment, chunk-major (entry ``κ·m' + i`` is
    ``W′(i, cpc·κ + g)``): uniformly random scalars from :mod:`secrets`, or from ``rng`` (TESTS
    ONLY).
    """
    if rng is None:
        return [secrets.randbelow(R) for _ in range(layout.blinding_size)]
    return [rng.randrange(R) for _ in range(layout.blinding_size)]


def blinding_rows(layout: Layout, blinding: Sequence[int]) -> ObjArray:
    """
    The blinding entries (reduced mod ``R``) as a ``K_W × m'`` ``object`` array: row ``κ`` is chunk
    ``κ``'s blinding column.
    """
    if len(blinding) != layout.blinding_size:
        raise ValueError(f"{len(blinding)} blinding entries, expected {layout.blinding_size}")
    out = np.empty(layout.blinding_size, dtype=object)
    out[:] = blinding
    return np.asarray(out % R, dtype=object).reshape(layout.k_w, layout.m_pad)


def commit_weight_chunks(
    setup: Setup, layout: Layout, flat: npt.NDArray[np.int64], blinding: Sequence[int]
) -> list[G1Point]:
    """
    ``C_W[κ]`` for ``κ < K_W``: the integer part ``flat`` (see :func:`weight_flat`) through the
    small-integer fast path, plus chunk ``κ``'s blinding column as one MSM. The blinding column is
    the chunk's last column, i.e. its last ``m'`` entries ``G[D − m' .. D)``.
    """
    chunks = commit_chunks(setup, flat, layout.k_w)
    rows = blinding_rows(layout, blinding)
    bases = list(setup.g1[D - layout.m_pad : D])
    for c in range(layout.k_w):
        chunks[c] = chunks[c] + msm(bases, [int(v) for v in rows[c]])
    return chunks


# --------------------------------------------------------------------------------------------------
# Chunk helpers (shared with inference)
# --------------------------------------------------------------------------------------------------


def weight_flat(
    layout: Layout, weights: npt.NDArray[np.int64], biases: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """
    The integer part of ``W′`` at flat indices ``f < K_W·D`` (``f = i + m'·j``): ``W``'s column
    ``c`` at layout column ``pos(c)``, ``b`` at ``pos(n)``, everything else 0 (the blinding columns
    are added separately).
    """
    m, n = weights.shape
    positions = layout.positions()
    grid = np.zeros((layout.weight_columns, layout.m_pad), dtype=np.int64)  # [j, i]
    grid[positions[:n], :m] = weights.T
    grid[positions[n], :m] = biases
    return grid.reshape(-1)


def _fits_fast_path(values: ObjArray) -> npt.NDArray[np.int64] | None:
    """The values as int64 if every one is below ``2^62`` (small integers), else None."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    if int(values.max()) < 2**62:
        return values.astype(np.int64)
    return None


def commit_chunks(
    setup: Setup, flat: npt.NDArray[np.int64] | ObjArray, count: int
) -> list[G1Point]:
    """
    Commit a flat vector as ``count`` chunks of ``D`` entries (entries past ``len(flat)`` are 0).

    Parameters
    ----------
    setup :
        The setup.
    flat :
        An int64 array (signed small integers, the fast path) or an ``object`` array of field
        elements in ``[0, R)``.
    count :
        The number of chunks ``K``; ``len(flat) <= K·D``.
    """
    if len(flat) > count * D:
        raise ValueError(f"{len(flat)} entries do not fit {count} chunks")
    out = []
    for c in range(count):
        part = flat[c * D : (c + 1) * D]
        small = (
            _fits_fast_path(cast(ObjArray, part))
            if part.dtype == object
            else cast(npt.NDArray[np.int64], part)
        )
        if small is None:
            out.append(commit(setup, [int(v) for v in part]))
        elif small.size and int(small.min()) < 0:
            # A negative v is the full-size scalar R − |v|: commit the two signs separately so
            # that every MSM scalar stays small (several times faster).
            positive = commit(setup, np.maximum(small, 0))
            out.append(positive - commit(setup, np.maximum(-small, 0)))
        else:
            out.append(commit(setup, small))
    return out


def commit_table_chunks(
    setup: Setup, indices: npt.NDArray[np.int64], table: Sequence[int], count: int
) -> list[G1Point]:
    """
    Commit the flat vector ``table[indices[f]]`` as ``count`` chunks (entries past
    ``len(indices)`` are 0) by bucketing: ``Σ_v table[v]·(Σ_{f: indices[f] = v} G[f])``, one
    point addition per entry and one MSM of ``len(table)`` points per chunk (instead of a
    full-scalar MSM of ``D`` points).
    """
    if len(indices) > count * D:
        raise ValueError(f"{len(indices)} entries do not fit {count} chunks")
    identity = G1Point.identity()
    scalars = [int(v) % R for v in table]
    out = []
    for c in range(count):
        part = indices[c * D : (c + 1) * D].tolist()
        buckets = [identity] * len(scalars)
        for offset, v in enumerate(part):
            buckets[v] = buckets[v] + setup.g1[offset]
        out.append(msm(buckets, scalars))
    return out


def add_entries(
    setup: Setup, chunks: Sequence[G1Point], entries: Mapping[int, int]
) -> list[G1Point]:
    """
    The chunk commitments of a flat vector after adding ``entries`` (flat index → field value):
    ``chunks[f // D] + value·G[f mod D]`` per entry (the blinding entries of
    docs/proof-system-zk.md Z2, added to a commitment computed on the fast path).
    """
    out = list(chunks)
    for f, value in entries.items():
        if not 0 <= f < len(out) * D:
            raise ValueError(f"flat index {f} outside {len(out)} chunks")
        out[f // D] = out[f // D] + g1_mul(setup.g1[f % D], value % R)
    return out


def reject_masks_at_infinity(**commitments: G1Point) -> None:
    """
    Reject a proof whose mask commitment (``C_R``, ``C_Lib``, ``C_Mk``, ``C_A``, ``C_Q``, by name)
    is the point at infinity (docs/proof-system-zk.md Z10), before any other check.

    Raises
    ------
    ProofRejected
        Naming the first such commitment.
    """
    identity = G1Point.identity()
    for name, point in commitments.items():
        if point == identity:
            raise ProofRejected(f"degenerate: {name} is the point at infinity")


def draw_nonzero(count: int, rng: random.Random | None = None) -> list[int]:
    """
    ``count`` fresh values uniform in ``F \\ {0}`` (docs/proof-system-zk.md Z0) from
    :mod:`secrets`; ``rng`` is TESTS ONLY (golden vectors).
    """
    return random_nonzero_vector(count, rng)


@dataclass(frozen=True)
class Inverses:
    """
    ``1/(α − v)`` for every entry of a grid of looked-up values.

    Attributes
    ----------
    values :
        The inverses, an ``object`` array of the input's shape.
    indices, table :
        When every looked-up value is a small non-negative integer (``< 2^16``, the honest case):
        the values as int64 and ``table[v] = 1/(α − v)``, so that ``values = table[indices]``;
        else None.
    """

    values: ObjArray
    indices: npt.NDArray[np.int64] | None
    table: list[int] | None

    def commit(self, setup: Setup, count: int) -> list[G1Point]:
        """Commit the column-major flattening of :attr:`values` as ``count`` chunks."""
        if self.indices is not None and self.table is not None:
            return commit_table_chunks(setup, grid_flat(self.indices), self.table, count)
        return commit_chunks(setup, grid_flat(self.values), count)

    def spread(self, columns: npt.NDArray[np.int64], width: int) -> Inverses:
        """
        The grid with its column ``t`` moved to column ``columns[t]`` of a ``width``-column grid
        whose other entries are 0 (``HW`` in ``W′``'s layout columns, docs/proof-system.md §4).
        """
        rows = self.values.shape[0]
        values = np.zeros((rows, width), dtype=object)
        values[:, columns] = self.values
        if self.indices is None or self.table is None:
            return Inverses(values, None, None)
        # The extra table entry 0 stands for the zero entries.
        indices = np.full((rows, width), len(self.table), dtype=np.int64)
        indices[:, columns] = self.indices
        return Inverses(values, indices, [*self.table, 0])


def inverse_lookup(values: npt.NDArray[np.integer] | ObjArray, alpha: int) -> Inverses:
    """
    ``1/(α − v)`` for every entry of ``values`` (a 2-D grid): small non-negative entries through
    one inversion per distinct value, anything else (a malicious witness) by batch inversion.

    Raises
    ------
    WitnessError
        If some ``α − v`` is 0.
    """
    shape = values.shape
    flat = np.asarray(values).reshape(-1)
    small = flat.size == 0 or (int(flat.min()) >= 0 and int(flat.max()) < 2**16)
    out = np.zeros(flat.size, dtype=object)
    try:
        if small:
            indices = flat.astype(np.int64)
            top = int(indices.max()) + 1 if indices.size else 1
            table = batch_inv([(alpha - v) % R for v in range(top)])
            out[:] = np.array(table, dtype=object)[indices]
            return Inverses(out.reshape(shape), indices.reshape(shape), table)
        out[:] = batch_inv([(alpha - int(v)) % R for v in flat])
    except ZeroDivisionError as error:
        raise WitnessError("α equals a looked-up value") from error
    return Inverses(out.reshape(shape), None, None)


def flat_grid(flat: Sequence[int] | ObjArray, rows: int) -> ObjArray:
    """A flat vector (``f = i + rows·j``) as the ``rows × ⌈len/rows⌉`` grid ``[i, j]``."""
    cols = max(1, -(-len(flat) // rows))
    padded = np.zeros(rows * cols, dtype=object)
    padded[: len(flat)] = [int(v) % R for v in flat]
    return np.asarray(padded.reshape(cols, rows).T.copy(), dtype=object)


def grid_flat(grid: GridArray) -> GridArray:
    """The inverse of :func:`flat_grid`: ``grid[i, j]`` at ``f = i + rows·j``."""
    return cast(GridArray, np.ascontiguousarray(grid.T).reshape(-1))


# --------------------------------------------------------------------------------------------------
# The registration witness and prover
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationWitness:
    """
    The registration prover's witness (before ``α``).

    Attributes
    ----------
    bias_limbs :
        ``BL``: ``m' × 4`` field elements, honestly the bytes of ``b_i + 2^31``.
    multiplicities :
        ``Mu``: 256 field elements, honestly the number of lookups of each byte value.
    """

    bias_limbs: ObjArray
    multiplicities: tuple[int, ...]


def build_registration_witness(
    layout: Layout, weights: npt.NDArray[np.int64], biases: npt.NDArray[np.int64]
) -> RegistrationWitness:
    """
    The honest witness: the bias bytes and the byte multiplicities.

    Raises
    ------
    WitnessError
        If a weight is outside int8 or a bias outside int32 (nothing to prove).
    """
    if weights.size and (int(weights.min()) < -128 or int(weights.max()) > 127):
        raise WitnessError("a weight is outside int8")
    if biases.size and (int(biases.min()) < _INT32_MIN or int(biases.max()) > _INT32_MAX):
        raise WitnessError("a bias is outside int32")
    padded = np.zeros(layout.m_pad, dtype=np.int64)
    padded[: layout.m] = biases
    shifted = padded + BIAS_OFFSET
    limbs = np.stack([(shifted >> (8 * t)) & 0xFF for t in range(BIAS_LIMBS)], axis=1)
    counts = np.bincount(limbs.reshape(-1), minlength=BYTE_TABLE_SIZE).astype(np.int64)
    counts += np.bincount(weights.reshape(-1) + WEIGHT_OFFSET, minlength=BYTE_TABLE_SIZE)
    # Padded rows hold W′ = 0, i.e. the value 128, in each of the n weight columns.
    counts[WEIGHT_OFFSET] += (layout.m_pad - layout.m) * layout.n
    return RegistrationWitness(
        bias_limbs=obj_array(limbs), multiplicities=tuple(int(c) for c in counts)
    )


def prove_registration(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    statement: RegistrationStatement,
    *,
    transcript: Transcript | None = None,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove that the chunks of ``commitment`` hold an int8 matrix and int32 biases.

    Parameters
    ----------
    setup :
        The setup the commitment was made with.
    commitment :
        From :func:`commit_weights` on ``weights``, ``biases``.
    weights, biases :
        ``W`` (``int8``, ``(m, n)``) and ``b`` (``(m,)``, int32).
    statement :
        Its ``h_w``, ``m``, ``n`` must be the commitment's.
    transcript :
        For tests (to record challenges): a fresh transcript of the registration domain.
    rng :
        TESTS ONLY (golden vectors): a deterministic source for the proof's masks; ``None`` (the
        only choice for a real proof) draws them from :mod:`secrets`.

    Returns
    -------
    proof : `bytes`
        The §9 registration proof.

    Raises
    ------
    WitnessError
        If the inputs disagree with each other or with the statement.
    """
    _check_setup(setup)
    w, b = check_weights(weights, biases)
    layout = statement.layout
    if (commitment.m, commitment.n) != (layout.m, layout.n) or w.shape != (layout.m, layout.n):
        raise WitnessError("the weights, the commitment and the statement disagree on the shape")
    if commitment.h_w != statement.h_w:
        raise WitnessError("the statement's H_W is not the commitment's")
    if commitment.setup_id != setup.setup_id:
        raise WitnessError("the commitment was made with another setup")
    witness = build_registration_witness(layout, w, b)
    return prove_registration_with_witness(
        setup, commitment, w, b, statement, witness, transcript=transcript, rng=rng
    )


def prove_registration_with_witness(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: RegistrationStatement,
    witness: RegistrationWitness,
    *,
    transcript: Transcript | None = None,
    rng: random.Random | None = None,
    masks_hook: RegistrationMaskHook | None = None,
) -> bytes:
    """
    Prove from a given witness, without checking it (the honest path is
    :func:`prove_registration`; tests inject malicious witnesses here). ``weights`` may hold any
    int64 values (``|v| <= 2^31``): they are committed as they are by ``commitment``.

    Every mask (the blinding entries of ``BL``, ``HW``, ``HB``, ``Mu``, the Libra and Gemini
    masks) is drawn fresh from :mod:`secrets`; ``rng`` and ``masks_hook`` are TESTS ONLY. An honest
    prover that draws ``ρ_L = 0`` retries with fresh masks.
    """
    _check_setup(setup)
    return with_fresh_masks(
        lambda: _prove_registration(
            setup, commitment, weights, biases, statement, witness, transcript, rng, masks_hook
        ),
        fixed=transcript is not None or masks_hook is not None,
    )


RegistrationMaskHook = Callable[[ZkMasks, list[int]], tuple[ZkMasks, list[int]]]
"""
TESTS ONLY: ``(masks, blinding entries) -> the same, replaced``; the ``4·K_B + 2·K_W + 2`` blinding
entries are, in order, ``BL`` at :func:`bias_blinding_cells` (two per chunk), ``HW`` at
:func:`hw_blinding_cells` (two per weight chunk), ``HB`` at :func:`bias_blinding_cells`, ``Mu`` at
flat ``256, 257`` (see :func:`split_registration_blinds`).
"""


def bias_blinding_cells(layout: Layout) -> list[tuple[int, int]]:
    """
    The cells ``(row, column)`` of ``BL``'s (and, with independent values, ``HB``'s) blinding
    entries (docs/proof-system-zk.md Z2): rows 0 and 1 of the free column ``cpc·κ + g`` of every
    chunk ``κ < K_B``, chunk by chunk. The bias limbs sit at ``posB(t) = t + ⌊t/g⌋``, so ``selB``,
    ``cb`` and ``eB″`` are 0 there and every chunk commitment ``C_BL[κ]``, ``C_HB[κ]`` is hiding.
    """
    return layout.free_cells(layout.k_b)


def split_registration_blinds(
    layout: Layout, blinds: Sequence[int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """The ``BL``, ``HW``, ``HB`` and ``Mu`` parts of the registration blinding entries."""
    kb2, kw2 = 2 * layout.k_b, 2 * layout.k_hw
    if len(blinds) != 2 * kb2 + kw2 + 2:
        raise ValueError(f"{len(blinds)} blinding entries, expected {2 * kb2 + kw2 + 2}")
    values = list(blinds)
    return (
        values[:kb2],
        values[kb2 : kb2 + kw2],
        values[kb2 + kw2 : 2 * kb2 + kw2],
        values[2 * kb2 + kw2 :],
    )


def hw_blinding_cells(layout: Layout) -> list[tuple[int, int]]:
    """
    The cells ``(row, column)`` of ``HW``'s blinding entries (docs/proof-system-zk.md Z2): rows 0
    and 1 of every weight chunk's blinding column ``cpc·κ + g``, chunk by chunk. ``selW`` is 0
    there, so no term of the relation reads them, and every chunk commitment ``C_HW[κ]`` is
    hiding (``m' >= 2``, Z1).
    """
    return [(row, int(col)) for col in layout.blinding_columns() for row in (0, 1)]


def hw_blinding_positions(layout: Layout) -> list[int]:
    """The flat indices of :func:`hw_blinding_cells`."""
    return [layout.flat(row, col) for row, col in hw_blinding_cells(layout)]


def _prove_registration(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: RegistrationStatement,
    witness: RegistrationWitness,
    transcript: Transcript | None,
    rng: random.Random | None,
    masks_hook: RegistrationMaskHook | None,
) -> bytes:
    layout = statement.layout
    mp, n = layout.m_pad, layout.n
    tr = start_transcript(DOMAIN_REGISTRATION, statement.to_bytes(setup.setup_id), transcript)

    masks = ZkMasks.draw(layout.ell, rng)
    blinds = draw_nonzero(4 * layout.k_b + 2 * layout.k_hw + 2, rng)
    if masks_hook is not None:
        masks, blinds = masks_hook(masks, blinds)
    bl_blind, hw_blind, hb_blind, mu_blind = split_registration_blinds(layout, blinds)
    # Bias limb t at posB(t) = t + ⌊t/g⌋; two blinding entries in every chunk κ < K_B, at rows 0
    # and 1 of its free column cpc·κ + g (Z2).
    bias_pos = np.asarray(layout.bias_positions(), dtype=np.int64)
    bias_width = layout.cpc * layout.k_b
    b_cells = bias_blinding_cells(layout)
    b_flat = [layout.flat(row, col) for row, col in b_cells]

    # Round 1: the bias limbs, the multiplicities and the mask commitments.
    bl_values = witness.bias_limbs
    bl_data = np.zeros((mp, bias_width), dtype=object)
    bl_data[:, bias_pos] = bl_values
    bl_grid = bl_data.copy()
    for (row, col), value in zip(b_cells, bl_blind, strict=True):
        bl_grid[row, col] = value
    bl_flat = grid_flat(bl_grid)
    c_bl = add_entries(
        setup,
        commit_chunks(setup, grid_flat(bl_data), layout.k_b),
        dict(zip(b_flat, bl_blind, strict=True)),
    )
    mu_flat = obj_array([*witness.multiplicities, *mu_blind])
    c_mu = add_entries(
        setup,
        commit_chunks(setup, obj_array(list(witness.multiplicities)), 1),
        {BYTE_TABLE_SIZE: mu_blind[0], BYTE_TABLE_SIZE + 1: mu_blind[1]},
    )[0]
    c_lib, c_mk = masks.commitments(setup)
    libra_sum = masks.libra.total_sum()
    (alpha,) = round1_challenges(tr, [*c_bl, c_mu, c_lib, c_mk], 1, libra_sum)

    # Round 2: the inverses (HW in W′'s data columns pos(c), c < n), blinded (Z2): HW has two
    # fresh entries in every chunk, at rows 0 and 1 of that chunk's blinding column (selW = 0).
    positions = layout.positions()
    hw_cols = hw_blinding_positions(layout)
    width = layout.weight_columns
    w_padded = np.zeros((mp, n), dtype=np.int64)
    w_padded[: layout.m] = weights
    hw_inv = inverse_lookup(w_padded + WEIGHT_OFFSET, alpha).spread(positions[:n], width)
    hb_inv = inverse_lookup(bl_values, alpha).spread(bias_pos, bias_width)
    hw = hw_inv.values.copy()
    for (row, col), value in zip(hw_blinding_cells(layout), hw_blind, strict=True):
        hw[row, col] = value
    hb = hb_inv.values.copy()
    for (row, col), value in zip(b_cells, hb_blind, strict=True):
        hb[row, col] = value
    c_hw = add_entries(
        setup, hw_inv.commit(setup, layout.k_hw), dict(zip(hw_cols, hw_blind, strict=True))
    )
    c_hb = add_entries(
        setup, hb_inv.commit(setup, layout.k_b), dict(zip(b_flat, hb_blind, strict=True))
    )
    tau, tau2, gamma, rho_l = round2_challenges(tr, [*c_hw, *c_hb], layout)
    if rho_l == 0:
        raise DegenerateDrawError

    # The sumcheck of F + ρ_L·G. W′: data column c at pos(c), chunk κ's blinding column at
    # cpc·κ + g.
    w_grid = np.zeros((mp, layout.weight_columns), dtype=object)
    w_grid[: layout.m, positions[:n]] = weights.astype(object) % R
    w_grid[: layout.m, positions[n]] = biases.astype(object) % R
    blind = blinding_rows(layout, commitment.blinding)
    w_grid[:, layout.blinding_columns()] = blind.T
    t_alpha = t_alpha_values(alpha, BYTE_TABLE_SIZE)
    tau2_j = tau2[layout.mu_i :]
    tables: dict[str, Table] = {
        "eq_tau": Vec("i", eq_table(tau)),
        "e_i": Vec("i", eq_table(tau2[: layout.mu_i])),
        "e_w": Vec("j", column_eq_values(tau2_j, positions[:n])),
        "e_b": Vec("j", column_eq_values(tau2_j, bias_pos)),
        "sel_w": Vec("j", sel_w_column(layout)),
        "sel_b": Vec("j", sel_b_column(layout)),
        "delta_n": Vec("j", delta_n_column(layout)),
        "c_b": Vec("j", c_b_column(layout)),
        "W": Grid(w_grid),
        "BL": Grid(bl_grid),
        "HW": Grid(hw),
        "HB": Grid(hb),
        "Mu": Grid(flat_grid(mu_flat, mp)),
        "T": Grid(flat_grid(t_alpha, mp)),
    }
    g2, g3 = gamma * gamma % R, gamma * gamma * gamma % R
    terms = [
        Term(1, ("eq_tau", "delta_n", "W")),
        Term(BIAS_OFFSET, ("eq_tau", "delta_n")),
        Term(-1, ("eq_tau", "c_b", "BL")),
        Term(gamma, ("sel_w", "HW")),
        Term(gamma, ("sel_b", "HB")),
        Term(-gamma, ("Mu", "T")),
        Term(g2 * (alpha - WEIGHT_OFFSET), ("e_i", "e_w", "HW")),
        Term(-g2, ("e_i", "e_w", "HW", "W")),
        Term(-g2, ("e_i", "e_w")),
        Term(g3 * alpha, ("e_i", "e_b", "HB")),
        Term(-g3, ("e_i", "e_b", "HB", "BL")),
        Term(-g3, ("e_i", "e_b")),
    ]
    prover = SumcheckProver(layout.mu_i, layout.mu_j, tables, terms)
    claim = rho_l * libra_sum % R
    rounds = prove_rounds(prover, tr, claim=claim, addends=[LibraAddend(masks.libra, rho_l)])
    point = prover.point()
    evals = [prover.final_value(name) for name in ("W", "BL", "HW", "HB", "Mu")]
    s_g = masks.libra.evaluate(point)
    opened: list[tuple[Flat, int]] = [
        (weight_flat(layout, weights, biases), layout.k_w),
        (bl_flat, layout.k_b),
        (grid_flat(hw), layout.k_hw),
        (grid_flat(hb), layout.k_b),
        (mu_flat, 1),
    ]
    opening, tail = open_batched(
        setup, layout, opened, blind, point, evals, tr, masks=masks, s_g=s_g, w_mask=None
    )

    proof = RegistrationProof(
        c_w=tuple(commitment.chunk_points()),
        c_bl=tuple(c_bl),
        c_mu=c_mu,
        c_lib=c_lib,
        c_mk=c_mk,
        libra_sum=libra_sum,
        c_hw=tuple(c_hw),
        c_hb=tuple(c_hb),
        rounds=tuple((a, b_, c, d) for a, b_, c, d in rounds),
        evals=(*evals, *tail),
        opening=opening,
    )
    return proof.to_bytes()


# --------------------------------------------------------------------------------------------------
# The registration verifier
# --------------------------------------------------------------------------------------------------


def verify_registration(
    setup: Setup,
    statement: RegistrationStatement,
    proof_bytes: bytes,
    *,
    transcript: Transcript | None = None,
) -> None:
    """
    Check a registration proof against its statement.

    Parameters
    ----------
    setup :
        The setup (``D`` points).
    statement :
        The shape and ``H_W`` being registered.
    proof_bytes :
        The §9 encoding.
    transcript :
        For tests (to record challenges): a fresh transcript of the registration domain.

    Returns
    -------
    None
        If the proof is valid: the chunks hashing to ``H_W`` hold an int8 ``m×n`` matrix in the
        data columns ``pos(c)``, ``c < n``, and int32 biases in column ``pos(n)`` (for every row
        ``i < m'``).

    Raises
    ------
    EncodingError
        If the bytes are not a canonical proof of the statement's shape.
    ProofRejected
        If ``C_W`` does not hash to ``H_W`` or a check fails (:class:`OpeningRejected` for the
        opening).
    """
    _check_setup(setup)
    layout = statement.layout
    proof = RegistrationProof.from_bytes(proof_bytes, layout)
    if weight_commitment_hash(proof.c_w) != statement.h_w:
        raise ProofRejected("the weight chunks do not hash to H_W")
    reject_masks_at_infinity(
        C_Lib=proof.c_lib, C_Mk=proof.c_mk, C_A=proof.opening.c_a, C_Q=proof.opening.c_q
    )
    tr = start_transcript(DOMAIN_REGISTRATION, statement.to_bytes(setup.setup_id), transcript)
    (alpha,) = round1_challenges(
        tr, [*proof.c_bl, proof.c_mu, proof.c_lib, proof.c_mk], 1, proof.libra_sum
    )
    tau, tau2, gamma, rho_l = round2_challenges(tr, [*proof.c_hw, *proof.c_hb], layout)
    if rho_l == 0:
        raise ProofRejected("degenerate: ρ_L = 0")

    claim, point = verify_rounds(proof.rounds, rho_l * proof.libra_sum % R, tr)
    w_u, bl_u, hw_u, hb_u, mu_u = proof.evals[:5]
    s_g = proof.evals[-1]
    pub = registration_public_evals(layout, alpha, tau, tau2, point)
    a_r = pub.delta_n * w_u + pub.delta_n * BIAS_OFFSET - pub.c_b * bl_u
    b1 = pub.sel_w * hw_u + pub.sel_b * hb_u - mu_u * pub.t_alpha
    b2w = hw_u * (alpha - w_u - WEIGHT_OFFSET) - 1
    b2b = hb_u * (alpha - bl_u) - 1
    f_u = (
        pub.eq_tau * a_r
        + gamma * b1
        + gamma * gamma * pub.eq_tau2_w * b2w
        + gamma * gamma * gamma * pub.eq_tau2_b * b2b
    ) % R
    if (f_u + rho_l * s_g) % R != claim:
        raise ProofRejected("the final sumcheck claim does not match the evaluations")
    groups = [proof.c_w, proof.c_bl, proof.c_hw, proof.c_hb, (proof.c_mu,)]
    verify_batched(
        setup,
        layout,
        groups,
        point,
        proof.evals,
        proof.opening,
        tr,
        c_lib=proof.c_lib,
        c_mk=proof.c_mk,
        s_g=s_g,
        w_mask_commitment=None,
    )
