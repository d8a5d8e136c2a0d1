"""
Every chunk of the per-proof limb polynomials is hiding (docs/proof-system-zk.md Z1, Z2).

A chunk of ``D`` flat indices holds only ``cpc = D/m'`` columns, and the relations read every cell
of the limb columns. An earlier layout put the limb columns at ``0..L−1`` (inference ``Limb``,
``H``) and ``0..3`` (registration ``BL``, ``HB``) and the two blinding entries of each polynomial
right after them, so for ``m' >= 512`` (inference) and ``m' >= 1024`` (registration) the first
chunk(s) held only limb columns: a deterministic commitment of witness data that anyone holding a
candidate model recomputes from the proof's own ``α`` (and ``λ``). The fix gives these polynomials
the weight layout's per-chunk free column: limb column ``t`` at ``posL(t) = t + ⌊t/g⌋`` and two
fresh entries at rows 0 and 1 of the last column ``cpc·κ + g`` of every chunk ``κ``. These tests
pin the layout and, for shapes with several limb chunks, that no chunk commitment of a real proof
equals the bare witness grid's.
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, qlinear
from sumkzg.field import R
from sumkzg.inference import build_inference_witness, prove_inference, verify_inference
from sumkzg.layout import (
    BIAS_LIMBS,
    MAX_ROWS_PAD,
    Layout,
    LimbLayout,
    c_b_column,
    c_rho_column,
    c_u_column,
    sel_b_column,
    sel_column,
    top_column,
)
from sumkzg.proof import InferenceProof, RegistrationProof
from sumkzg.registration import (
    WeightCommitment,
    build_registration_witness,
    commit_chunks,
    commit_weights,
    grid_flat,
    inverse_lookup,
    prove_registration,
    verify_registration,
)
from sumkzg.setup import D, Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement
from sumkzg.transcript import DOMAIN_INFERENCE, DOMAIN_REGISTRATION, Transcript

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MODEL_ID = bytes.fromhex("33" * 32)

# m' = 512 (cpc = 8) and 1024 (cpc = 4): several limb chunks; k = 13 gives L = 10, k = 16 L = 9.
INFERENCE_SHAPES = [(300, 8, 13), (600, 4, 16), (600, 4, 13)]
REGISTRATION_SHAPES = [(600, 3), (1100, 2)]


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


class Recording(Transcript):
    """A transcript that keeps every challenge it draws."""

    drawn: list[int]

    def challenge(self) -> int:
        value = super().challenge()
        self.drawn = [*getattr(self, "drawn", []), value]
        return value


@lru_cache(maxsize=4)
def committed(
    m: int, n: int, seed: int = 0
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], WeightCommitment]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (m, n)).astype(np.int8)
    biases = rng.integers(-(2**20), 2**20, m).astype(np.int64)
    return weights, biases, commit_weights(load_setup(), weights, biases, rng=random.Random(seed))


def inference_statement(
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.int64],
    shift: int,
    seed: int,
) -> InferenceStatement:
    rng = np.random.default_rng(seed)
    n = weights.shape[1]
    x = rng.integers(-128, 128, n).astype(np.int8)
    z = weights.astype(np.int64) @ x.astype(np.int64) + biases
    multiplier = min(2**31 - 1, int(100 * 2**shift // max(1, int(np.abs(z).max()))) + 1)
    y = qlinear(weights, biases, x, multiplier, shift, Activation.RELU)
    return InferenceStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=0,
        h_w=commitment.h_w,
        multiplier=multiplier,
        shift=shift,
        activation=int(Activation.RELU),
        x=x,
        y=y,
        job_id=seed,
    )


# --------------------------------------------------------------------------------------------------
# The layout: a free column in every limb chunk, the public vectors at posL / posB


@pytest.mark.parametrize("m_pad", [2**e for e in range(1, 12)])
@pytest.mark.parametrize("k", [8, 13, 1, 62])
def test_every_limb_chunk_has_a_free_column(m_pad: int, k: int) -> None:
    limb = LimbLayout.of(m_pad, 1, k)
    shape = limb.shape
    cpc, g = shape.cpc, shape.g
    assert g >= 1 and m_pad <= MAX_ROWS_PAD
    for count, chunks, positions in (
        (limb.limbs, limb.k_l, limb.positions()),
        (BIAS_LIMBS, shape.k_b, shape.bias_positions()),
    ):
        assert positions == [t + t // g for t in range(count)]
        assert all(p % cpc != g for p in positions)  # never a free column
        assert chunks == positions[-1] // cpc + 1  # every limb in a chunk < K
        assert cpc * chunks <= shape.n_pad  # the chunks fit the domain
        assert {p // cpc for p in positions} == set(range(chunks))
        cells = shape.free_cells(chunks)
        assert cells == [(r, cpc * kappa + g) for kappa in range(chunks) for r in (0, 1)]
        assert sorted({(shape.flat(r, c) // D) for r, c in cells}) == list(range(chunks))
    if cpc >= limb.limbs + 1:
        assert limb.positions() == list(range(limb.limbs)) and limb.k_l == 1
    if cpc >= BIAS_LIMBS + 1:
        assert shape.bias_positions() == [0, 1, 2, 3] and shape.k_b == 1


def test_large_layers_have_several_limb_chunks_and_n_pad_fits_them() -> None:
    # m' = 512: cpc = 8, L = 10 → posL = 0..6, 8, 9, 10, K_L = 2.
    limb = LimbLayout.of(300, 8, 13)
    assert limb.limbs == 10 and limb.positions() == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]
    assert limb.k_l == 2 and limb.shape.k_b == 1
    # m' = 1024: cpc = 4 → posL = 0, 1, 2, 4, 5, 6, 8, 9, 10, 12 (K_L = 4), posB = 0, 1, 2, 4.
    limb = LimbLayout.of(600, 4, 13)
    assert limb.positions() == [0, 1, 2, 4, 5, 6, 8, 9, 10, 12] and limb.k_l == 4
    assert limb.shape.bias_positions() == [0, 1, 2, 4] and limb.shape.k_b == 2
    # m' = 2048: cpc = 2 → posL(t) = 2t, K_L = L, 2L ≤ 20 columns: n' ≥ 32 for every n.
    limb = LimbLayout.of(1100, 3, 13)
    assert limb.positions() == [2 * t for t in range(10)] and limb.k_l == 10
    assert limb.shape.n_pad == 32 and limb.shape.k_b == 4
    assert Layout.of(1024, 3).n_pad == 16 and Layout.of(2048, 20).n_pad == 64


def test_public_columns_sit_at_the_limb_positions() -> None:
    limb = LimbLayout.of(600, 4, 13)  # Kρ = 2, Ku = 8
    pos = limb.positions()
    sel = sel_column(limb)
    assert [j for j, v in enumerate(sel) if v] == pos
    c_rho, c_u, top = c_rho_column(limb), c_u_column(limb), top_column(limb)
    assert [(j, v) for j, v in enumerate(c_rho) if v] == [(pos[0], 1), (pos[1], 256)]
    assert [(j, v) for j, v in enumerate(c_u) if v] == [
        (pos[t], 1 << (8 * (t - 2))) for t in range(2, 10)
    ]
    assert [j for j, v in enumerate(top) if v] == [pos[1]]
    shape = limb.shape
    assert [j for j, v in enumerate(sel_b_column(shape)) if v] == [0, 1, 2, 4]
    assert [(j, v) for j, v in enumerate(c_b_column(shape)) if v] == [
        (0, 1),
        (1, 256),
        (2, 65536),
        (4, 2**24),
    ]


# --------------------------------------------------------------------------------------------------
# Real proofs: no limb chunk is a deterministic commitment; proofs verify; tampering is rejected


@pytest.mark.parametrize(("m", "n", "k"), INFERENCE_SHAPES)
def test_no_limb_or_h_chunk_is_a_deterministic_commitment(
    setup: Setup, m: int, n: int, k: int
) -> None:
    weights, biases, commitment = committed(m, n)
    statement = inference_statement(commitment, weights, biases, k, seed=m + n + k)
    layout = statement.layout
    assert layout.k_l >= 2
    proof_bytes = prove_inference(setup, commitment, weights, biases, statement)
    tr = Recording(DOMAIN_INFERENCE)
    verify_inference(setup, statement, proof_bytes, transcript=tr)
    alpha, lam = tr.drawn[0], tr.drawn[1]
    proof = InferenceProof.from_bytes(proof_bytes, layout)
    witness = build_inference_witness(weights.astype(np.int64), biases, statement)
    limbs = np.asarray(witness.limbs, dtype=object)
    lookups = limbs.copy()
    lookups[:, layout.k_rho - 1] = (lookups[:, layout.k_rho - 1] + lam) % R
    inverses = inverse_lookup(lookups, alpha).values
    pos = layout.positions()
    # What a holder of the model recomputes: the bare grids at the spec's positions, and (the
    # earlier layout) at columns 0..L−1.
    for columns in (pos, list(range(layout.limbs))):
        width = max(layout.width, max(columns) + 1)
        bare_limb = np.zeros((layout.shape.m_pad, width), dtype=object)
        bare_limb[:, columns] = limbs
        bare_h = np.zeros((layout.shape.m_pad, width), dtype=object)
        bare_h[:, columns] = inverses
        for name, grid, revealed in (
            ("C_Limb", bare_limb, proof.c_limb),
            ("C_H", bare_h, proof.c_h),
        ):
            deterministic = commit_chunks(setup, grid_flat(grid), layout.k_l)
            same = [
                c for c, (a, b) in enumerate(zip(revealed, deterministic, strict=True)) if a == b
            ]
            assert same == [], f"{name} chunks {same} are deterministic commitments"


@pytest.mark.parametrize(("m", "n"), REGISTRATION_SHAPES)
def test_no_bl_or_hb_chunk_is_a_deterministic_commitment(setup: Setup, m: int, n: int) -> None:
    weights, biases, commitment = committed(m, n)
    layout = commitment.layout
    assert layout.k_b >= 2
    statement = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=commitment.h_w, m=m, n=n
    )
    proof_bytes = prove_registration(setup, commitment, weights, biases, statement)
    tr = Recording(DOMAIN_REGISTRATION)
    verify_registration(setup, statement, proof_bytes, transcript=tr)
    alpha = tr.drawn[0]
    proof = RegistrationProof.from_bytes(proof_bytes, layout)
    witness = build_registration_witness(layout, weights.astype(np.int64), biases)
    limbs = np.asarray(witness.bias_limbs, dtype=object)
    inverses = inverse_lookup(limbs, alpha).values
    for columns in (layout.bias_positions(), list(range(BIAS_LIMBS))):
        width = layout.cpc * layout.k_b
        bare_bl = np.zeros((layout.m_pad, width), dtype=object)
        bare_bl[:, columns] = limbs
        bare_hb = np.zeros((layout.m_pad, width), dtype=object)
        bare_hb[:, columns] = inverses
        for name, grid, revealed in (("C_BL", bare_bl, proof.c_bl), ("C_HB", bare_hb, proof.c_hb)):
            deterministic = commit_chunks(setup, grid_flat(grid), layout.k_b)
            same = [
                c for c, (a, b) in enumerate(zip(revealed, deterministic, strict=True)) if a == b
            ]
            assert same == [], f"{name} chunks {same} are deterministic commitments"


def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 1
    return bytes(out)


@pytest.mark.parametrize(("m", "n", "k"), [(300, 8, 13), (600, 4, 13)])
def test_large_limb_layouts_reject_tampering(setup: Setup, m: int, n: int, k: int) -> None:
    from sumkzg.errors import SumKzgError

    weights, biases, commitment = committed(m, n)
    statement = inference_statement(commitment, weights, biases, k, seed=7 * m + k)
    proof = prove_inference(setup, commitment, weights, biases, statement)
    verify_inference(setup, statement, proof)
    layout = statement.layout
    c_limb = 128 * layout.shape.k_w
    c_h = c_limb + 128 * (layout.k_l + 4) + 32
    # The last byte of each limb chunk commitment and of each C_H chunk, a sumcheck scalar, an
    # evaluation.
    offsets = [c_limb + 128 * c + 127 for c in range(layout.k_l)]
    offsets += [c_h + 128 * c + 127 for c in range(layout.k_l)]
    offsets += [c_h + 128 * layout.k_l + 31, len(proof) - 512 - 128 - 1]
    for offset in offsets:
        with pytest.raises(SumKzgError):
            verify_inference(setup, statement, _flip(proof, offset))
