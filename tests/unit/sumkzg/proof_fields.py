"""The field layout of a Z9 proof, shared by the proof-mutation tests of both proof kinds."""

from __future__ import annotations

from collections.abc import Iterator

from sumkzg.curve import G1_ENCODED_LEN
from sumkzg.setup import LOG_D

OPENING_TAIL: tuple[tuple[str, int], ...] = (
    ("point", 2),  # C_A, C_Q
    ("point", LOG_D - 1),  # folds
    ("scalar", 3 * LOG_D + 4),  # fold evaluations, then Lib̂(β), Â(β), Q̂(β), Â(ωβ)
    ("point", 4),  # W_0..W_3
)


def proof_field_offsets(
    round1_points: int, round2_points: int, scalars: int, total: int
) -> Iterator[tuple[str, int]]:
    """
    Every ("point" | "scalar", offset) of a v2 proof (docs/proof-system-zk.md Z9):
    ``round1_points`` commitments (``C_W``, the round-1 commitments, ``C_Lib``, ``C_Mk``), ``Γ``,
    ``round2_points`` commitments, ``scalars`` round and evaluation scalars, then the opening
    (``C_A``, ``C_Q``, ``d − 1`` folds, ``3d + 4`` scalars, 4 witnesses); asserts that the proof is
    ``total`` bytes long.
    """
    offset = 0
    sections = (
        ("point", round1_points),
        ("scalar", 1),
        ("point", round2_points),
        ("scalar", scalars),
        *OPENING_TAIL,
    )
    for kind, count in sections:
        for _ in range(count):
            yield kind, offset
            offset += G1_ENCODED_LEN if kind == "point" else 32
    assert offset == total
