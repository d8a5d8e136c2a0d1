"""
The statement and the layout of a batch proof (docs/proof-system-batch.md B1, B2): ``B``
inferences of one committed one-layer partition in one proof.

Introduction
------------
:class:`BatchStatement` says "the committed layer maps ``x_b`` to ``y_b`` for every ``b < B``" for
``B`` distinct jobs of one model's partition, on one chain, for one verifier contract. It is
immutable and validated on construction (:class:`~sumkzg.statement.StatementError`);
:meth:`BatchStatement.to_bytes` is the exact byte string absorbed with tag ``0x00`` in the
transcript of domain ``SUMKZG-ML/v2/batch``, fixed-width big-endian fields::

    chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ modelId (32) ‖ partitionIndex (32) ‖ H_W (32) ‖
    m (4) ‖ n (4) ‖ M (4) ‖ k (1) ‖ activation (1) ‖ B (4) ‖ x_0 ‖ … ‖ x_{B−1} (n bytes each) ‖
    y_0 ‖ … ‖ y_{B−1} (m bytes each) ‖ jobId_0 ‖ … ‖ jobId_{B−1} (32 each)

:class:`BatchLayout` derives the sizes of B2: the weight layout (``m'``, ``cpc``, ``K_W``,
``pos(c)``) is the registration layout's, unchanged; instance ``b``'s limb column ``t < L`` is the
layout column ``j = b·L₂ + t`` with ``L₂ = 2^⌈log₂(L + 2)⌉``, so that columns ``L`` and ``L + 1`` of
every instance's block are free (the blinding entries sit in them, B3), and a chunk (``cpc``
columns) holds whole instance blocks. A shape with ``cpc < L₂`` (``m' > 256``) or ``ℓ > 24`` is
refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from protocol.activations import Int8VectorLike, int8_bytes
from protocol.exceptions import ProtocolError

from .layout import MAX_ELL, MAX_SHIFT, MIN_COLS_PAD, MIN_SHIFT, Layout, LayoutError
from .setup import SETUP_ID
from .statement import InferenceStatement, StatementError, signed_values

DOMAIN_BATCH = b"SUMKZG-ML/v2/batch"
"""The transcript domain of a batch proof (docs/proof-system-batch.md B1)."""
MAX_BATCH = 64
"""The largest number ``B`` of inferences in one batch proof."""
BYTE_TABLE = 256
"""The byte sub-table of the inference lookup table (docs/proof-system.md §3)."""


def _log2_ceil(x: int) -> int:
    """``⌈log₂ x⌉`` for ``x >= 1``."""
    return (x - 1).bit_length()


@dataclass(frozen=True)
class BatchLayout:
    """
    The sizes of a batch proof (docs/proof-system-batch.md B2).

    Build it with :meth:`of`; every field is then consistent: ``L₂ >= L + 2``, ``cpc >= L₂``
    (``cpc`` and ``L₂`` are powers of two, so ``L₂`` divides ``cpc``), ``n'_B >= B′·L₂``,
    ``ℓ = μ_i + μ_j <= 24``.

    Attributes
    ----------
    shape :
        The registration layout of ``(m, n)`` (``m'``, ``cpc``, ``g``, ``K_W``, ``pos(c)``),
        unchanged by the batch.
    domain :
        ``shape`` with the batch's column count: ``n_pad = n'_B``, ``mu_j``, ``ell`` (what the
        sumcheck, the transcript and the opening see).
    batch :
        ``B``, ``1 <= B <= 64``.
    batch_pad, mu_b :
        ``B′ = 2^⌈log₂ B⌉`` and ``μ_B = log₂ B′``.
    k, k_rho, k_u, limbs, k_top, table_size :
        ``k``, ``Kρ = ⌈k/8⌉``, ``Ku = ⌈(64−k)/8⌉ + 1``, ``L = Kρ + Ku``, ``k' = k − 8(Kρ−1)`` and
        ``TS = 256 + 2^{k'}`` (docs/proof-system.md §3).
    l2, log_l2 :
        ``L₂ = 2^⌈log₂(L + 2)⌉`` columns per instance and ``log₂ L₂``.
    k_l :
        ``K_L = ⌊((B − 1)·L₂ + L − 1) / cpc⌋ + 1`` chunks of ``Limb`` and of ``H``.
    """

    shape: Layout
    domain: Layout
    batch: int
    batch_pad: int
    mu_b: int
    k: int
    k_rho: int
    k_u: int
    limbs: int
    k_top: int
    table_size: int
    l2: int
    log_l2: int
    k_l: int

    @staticmethod
    def of(m: int, n: int, k: int, batch: int) -> BatchLayout:
        """
        Derive the batch layout of ``batch`` inferences of an ``m×n`` layer with shift ``k``.

        Raises
        ------
        LayoutError
            If the shape is refused by :meth:`~sumkzg.layout.Layout.of`, ``k`` is not in
            ``1 .. 62``, ``B`` is not in ``1 .. 64``, ``cpc < L₂`` (a chunk must hold whole
            instance blocks) or ``ℓ > 24``.
        """
        shape = Layout.of(m, n)
        for value, low, high, what in (
            (k, MIN_SHIFT, MAX_SHIFT, "k"),
            (batch, 1, MAX_BATCH, "B"),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise LayoutError(f"{what} must be an int, got {type(value).__name__}")
            if not low <= value <= high:
                raise LayoutError(f"{what} = {value} is outside {low} .. {high}")
        k_rho = -(-k // 8)
        k_u = -(-(64 - k) // 8) + 1
        limbs = k_rho + k_u
        log_l2 = _log2_ceil(limbs + 2)
        l2 = 1 << log_l2
        if shape.cpc < l2:
            raise LayoutError(
                f"shape {m}×{n}: cpc = {shape.cpc} < L₂ = {l2} (a chunk must hold whole "
                "instance blocks; m' <= 256 qualifies)"
            )
        mu_b = _log2_ceil(batch)
        # n' of docs/proof-system.md §3, then n'_B = max(n', 2^⌈log₂(B′·L₂)⌉) (B2).
        n_reg = max(1 << _log2_ceil(shape.cpc * shape.k_w), MIN_COLS_PAD)
        n_pad = max(n_reg, 1 << (mu_b + log_l2))
        mu_j = n_pad.bit_length() - 1
        ell = shape.mu_i + mu_j
        if ell > MAX_ELL:
            raise LayoutError(f"a batch of {batch} of {m}×{n} needs ℓ = {ell} > {MAX_ELL}")
        k_top = k - 8 * (k_rho - 1)
        return BatchLayout(
            shape=shape,
            domain=replace(shape, n_pad=n_pad, mu_j=mu_j, ell=ell),
            batch=batch,
            batch_pad=1 << mu_b,
            mu_b=mu_b,
            k=k,
            k_rho=k_rho,
            k_u=k_u,
            limbs=limbs,
            k_top=k_top,
            table_size=BYTE_TABLE + (1 << k_top),
            l2=l2,
            log_l2=log_l2,
            k_l=((batch - 1) * l2 + limbs - 1) // shape.cpc + 1,
        )

    @property
    def width(self) -> int:
        """``cpc·K_L``: the layout columns of ``Limb``'s and ``H``'s chunks (``<= n'_B``)."""
        return self.shape.cpc * self.k_l

    def limb_column(self, b: int, t: int) -> int:
        """The layout column ``b·L₂ + t`` of instance ``b``'s limb ``t``."""
        if not (0 <= b < self.batch and 0 <= t < self.limbs):
            raise LayoutError(f"limb ({b}, {t}) outside {self.batch} instances of {self.limbs}")
        return b * self.l2 + t

    def limb_columns(self) -> list[int]:
        """Every limb column ``b·L₂ + t`` (``b < B``, ``t < L``), instance-major."""
        return [b * self.l2 + t for b in range(self.batch) for t in range(self.limbs)]

    def blinding_cells(self) -> list[tuple[int, int]]:
        """
        The ``2·K_L`` cells ``(row, column)`` of ``Limb``'s (and ``H``'s) blinding entries: rows 0
        and 1 of column ``κ·cpc + L`` (the first free column of instance ``κ·cpc/L₂``'s block),
        chunk by chunk (B3).
        """
        cols = [kappa * self.shape.cpc + self.limbs for kappa in range(self.k_l)]
        return [(row, col) for col in cols for row in (0, 1)]


def _uint(value: object, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatementError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise StatementError(f"{what} = {value} does not fit uint{bits}")
    return value


def _vectors(values: object, length: int, what: str) -> tuple[bytes, ...]:
    if not isinstance(values, (tuple, list)):
        raise StatementError(f"{what} must be a tuple of raw int8 byte strings")
    out = []
    for b, raw in enumerate(values):
        if not isinstance(raw, (bytes, bytearray)):
            raise StatementError(f"{what}[{b}] must be raw int8 bytes (use from_values)")
        if len(raw) != length:
            raise StatementError(f"{what}[{b}] has {len(raw)} values, expected {length}")
        out.append(bytes(raw))
    return tuple(out)


@dataclass(frozen=True)
class BatchStatement:
    """
    What a batch proof proves: the committed layer maps ``xs[b]`` to ``ys[b]`` for every
    ``b < B``, for the ``B`` distinct jobs ``job_ids`` (docs/proof-system-batch.md B1).

    Every single-instance field is validated exactly as
    :class:`~sumkzg.statement.InferenceStatement` validates it (each instance is checked through
    one); in addition ``1 <= B <= 64``, ``xs``,
    ``ys`` and ``job_ids`` have ``B`` entries each, the job ids are pairwise distinct and the
    batch layout exists (``cpc >= L₂``, ``ℓ <= 24``; :class:`BatchLayout`).

    Attributes
    ----------
    chain_id, verifier, model_id, partition_index, h_w, m, n, multiplier, shift, activation :
        As :class:`~sumkzg.statement.InferenceStatement`.
    xs :
        ``B`` inputs, each ``n`` raw two's-complement bytes.
    ys :
        ``B`` outputs, each ``m`` raw bytes; for relu every value in ``[0, 127]``.
    job_ids :
        ``B`` pairwise distinct job ids (``uint256``).
    """

    chain_id: int
    verifier: str
    model_id: bytes
    partition_index: int
    h_w: bytes
    m: int
    n: int
    multiplier: int
    shift: int
    activation: int
    xs: tuple[bytes, ...]
    ys: tuple[bytes, ...]
    job_ids: tuple[int, ...]
    layout: BatchLayout = field(init=False, repr=False, compare=False)
    instances: tuple[InferenceStatement, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate and normalize every field."""
        for name in ("xs", "ys", "job_ids"):
            if not isinstance(getattr(self, name), (tuple, list)):
                raise StatementError(f"{name} must be a tuple")
        count = len(self.xs)
        if not 1 <= count <= MAX_BATCH:
            raise StatementError(f"a batch holds 1 .. {MAX_BATCH} inferences, got {count}")
        if len(self.ys) != count or len(self.job_ids) != count:
            raise StatementError(
                f"{count} inputs, {len(self.ys)} outputs and {len(self.job_ids)} job ids"
            )
        if isinstance(self.m, bool) or not isinstance(self.m, int):
            raise StatementError("m must be an int")
        if isinstance(self.n, bool) or not isinstance(self.n, int):
            raise StatementError("n must be an int")
        object.__setattr__(self, "xs", _vectors(self.xs, self.n, "xs"))
        object.__setattr__(self, "ys", _vectors(self.ys, self.m, "ys"))
        ids = tuple(_uint(j, 256, f"job_ids[{b}]") for b, j in enumerate(self.job_ids))
        if len(set(ids)) != count:
            raise StatementError("the job ids of a batch must be pairwise distinct")
        object.__setattr__(self, "job_ids", ids)
        instances = tuple(
            InferenceStatement(
                chain_id=self.chain_id,
                verifier=self.verifier,
                model_id=self.model_id,
                partition_index=self.partition_index,
                h_w=self.h_w,
                m=self.m,
                n=self.n,
                multiplier=self.multiplier,
                shift=self.shift,
                activation=self.activation,
                x=x,
                y=y,
                job_id=j,
            )
            for x, y, j in zip(self.xs, self.ys, ids, strict=True)
        )
        first = instances[0]
        object.__setattr__(self, "verifier", first.verifier)
        object.__setattr__(self, "model_id", first.model_id)
        object.__setattr__(self, "h_w", first.h_w)
        object.__setattr__(self, "activation", first.activation)
        object.__setattr__(self, "instances", instances)
        try:
            object.__setattr__(self, "layout", BatchLayout.of(self.m, self.n, self.shift, count))
        except LayoutError as error:
            raise StatementError(str(error)) from error

    @staticmethod
    def from_values(
        *,
        chain_id: int,
        verifier: str | bytes,
        model_id: bytes,
        partition_index: int,
        h_w: bytes,
        multiplier: int,
        shift: int,
        activation: int,
        xs: Sequence[Int8VectorLike],
        ys: Sequence[Int8VectorLike],
        job_ids: Sequence[int],
    ) -> BatchStatement:
        """
        Build a statement from int8 vectors in any form
        :meth:`~sumkzg.statement.InferenceStatement.from_values` accepts; ``n`` and ``m`` are the
        lengths of the first input and output.

        Raises
        ------
        StatementError
            If a field is invalid (no inputs, lengths that differ, a repeated job id, …).
        """
        try:
            raw_x = tuple(int8_bytes(x, f"xs[{b}]") for b, x in enumerate(xs))
            raw_y = tuple(int8_bytes(y, f"ys[{b}]") for b, y in enumerate(ys))
        except ProtocolError as error:
            raise StatementError(str(error)) from error
        if not raw_x or not raw_y:
            raise StatementError("a batch holds at least one inference")
        return BatchStatement(
            chain_id=chain_id,
            verifier=verifier if isinstance(verifier, str) else "0x" + bytes(verifier).hex(),
            model_id=model_id,
            partition_index=partition_index,
            h_w=h_w,
            m=len(raw_y[0]),
            n=len(raw_x[0]),
            multiplier=multiplier,
            shift=shift,
            activation=activation,
            xs=raw_x,
            ys=raw_y,
            job_ids=tuple(job_ids),
        )

    @property
    def batch(self) -> int:
        """``B``."""
        return len(self.xs)

    @property
    def x_values(self) -> tuple[tuple[int, ...], ...]:
        """Every ``x_b`` as signed integers."""
        return tuple(signed_values(x) for x in self.xs)

    @property
    def y_values(self) -> tuple[tuple[int, ...], ...]:
        """Every ``y_b`` as signed integers."""
        return tuple(signed_values(y) for y in self.ys)

    def to_bytes(self, setup_id: bytes = SETUP_ID) -> bytes:
        """The statement bytes absorbed with tag ``0x00`` (docs/proof-system-batch.md B1)."""
        if not isinstance(setup_id, (bytes, bytearray)) or len(setup_id) != 32:
            raise StatementError("setup_id must be 32 bytes")
        return (
            self.chain_id.to_bytes(32, "big")
            + bytes.fromhex(self.verifier[2:])
            + bytes(setup_id)
            + self.model_id
            + self.partition_index.to_bytes(32, "big")
            + self.h_w
            + self.m.to_bytes(4, "big")
            + self.n.to_bytes(4, "big")
            + self.multiplier.to_bytes(4, "big")
            + self.shift.to_bytes(1, "big")
            + self.activation.to_bytes(1, "big")
            + self.batch.to_bytes(4, "big")
            + b"".join(self.xs)
            + b"".join(self.ys)
            + b"".join(j.to_bytes(32, "big") for j in self.job_ids)
        )
