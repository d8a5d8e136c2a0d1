"""The field layout of a §9 proof, shared by the proof-mutation tests of both proof kinds."""

from __future__ import annotations

from collections.abc import Iterator

from sumkzg.curve import G1_ENCODED_LEN
from sumkzg.setup import LOG_D


def proof_field_offsets(points: int, scalars: int, total: int) -> Iterator[tuple[str, int]]:
    """
    Every ("point" | "scalar", offset) of a proof: ``points`` commitments, ``scalars`` round and
    evaluation scalars, then the HyperKZG opening (``d − 1`` folds, ``3d`` scalars, 3 witnesses);
    asserts that the proof is ``total`` bytes long.
    """
    offset = 0
    for kind, count in (
        ("point", points),
        ("scalar", scalars),
        ("point", LOG_D - 1),
        ("scalar", 3 * LOG_D),
        ("point", 3),
    ):
        for _ in range(count):
            yield kind, offset
            offset += G1_ENCODED_LEN if kind == "point" else 32
    assert offset == total
