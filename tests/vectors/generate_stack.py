"""
Build ``tests/vectors/sumkzg_stack_proof.json``: one two-layer stack proof
(docs/proof-system-stack.md) with the registration proofs of its two matrices ``P`` and ``V``,
replayed by ``contracts/test/verifier/SumKzgStackVerifier.t.sol``.

The shape is the digits demo's hidden pair (64×64 relu, then 32×64 relu). The weights, the
commitments' blinding columns and every mask come from seeded generators (TESTS ONLY: a real
commitment and proof draw them from :mod:`secrets`). The registrations bind the base verifier's
address ``BASE`` and the stack proof the stack verifier's address ``STACK``; the forge test places
both contracts' code at those addresses and sets the chain id.

The file is written (and checked, ``--check``) by ``tests/vectors/generate.py`` with every other
vector file; ``python -m tests.vectors.generate_stack m1 n1 m2 k1 k2 act1 act2 out.json`` writes
the vector of another shape (debugging).
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from protocol.requant import Activation, requant_array
from sumkzg.registration import commit_weights, prove_registration
from sumkzg.setup import load_setup
from sumkzg.stack import (
    StackLayer,
    StackStatement,
    prove_stack,
    stack_matrices,
    verify_stack,
)
from sumkzg.statement import RegistrationStatement

OUT = Path(__file__).with_name("sumkzg_stack_proof.json")
CHAIN_ID = 31337
BASE = "0x" + "5b" * 20
"""Where the forge test places the single-layer SumKzgVerifier (it holds P's and V's records)."""
STACK = "0x" + "5c" * 20
"""Where the forge test places SumKzgStackVerifier (the address the stack transcript binds)."""
SEED = 20261124


@dataclass(frozen=True)
class LayerPair:
    """Two layers (int8 weights, int32-range biases), an input and its runtime output."""

    w1: npt.NDArray[np.int8]
    b1: npt.NDArray[np.int64]
    w2: npt.NDArray[np.int8]
    b2: npt.NDArray[np.int64]
    x: npt.NDArray[np.int8]
    y: npt.NDArray[np.int8]
    mult1: int
    mult2: int


def _layer_pair(
    rng: np.random.Generator, m1: int, n1: int, m2: int, k1: int, k2: int, act1: int, act2: int
) -> LayerPair:
    """Random int8 weights, int32-range biases and input; multipliers that saturate some outputs."""
    w1 = rng.integers(-128, 128, size=(m1, n1)).astype(np.int8)
    b1 = rng.integers(-(2**20), 2**20, size=(m1,)).astype(np.int64)
    w2 = rng.integers(-128, 128, size=(m2, m1)).astype(np.int8)
    b2 = rng.integers(-(2**20), 2**20, size=(m2,)).astype(np.int64)
    x = rng.integers(-128, 128, size=(n1,)).astype(np.int8)
    z1 = w1.astype(np.int64) @ x.astype(np.int64) + b1
    mult1 = min(2**31 - 1, int(200 * 2**k1 // max(1, int(np.abs(z1).max()))) + 1)
    a = requant_array(z1, mult1, k1, Activation(act1))
    z2 = w2.astype(np.int64) @ a.astype(np.int64) + b2
    mult2 = min(2**31 - 1, int(200 * 2**k2 // max(1, int(np.abs(z2).max()))) + 1)
    y = requant_array(z2, mult2, k2, Activation(act2))
    return LayerPair(w1, b1, w2, b2, x, y, mult1, mult2)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _int8_hex(values: npt.NDArray[np.int8]) -> str:
    return _hex(bytes(int(v) & 0xFF for v in values))


DEFAULT_SHAPE = (64, 64, 32, 16, 16, 1, 1)
"""The golden vector's shape (m1, n1, m2, k1, k2, act1, act2): the demo's digits stack sizes."""


def build(shape: tuple[int, ...] = DEFAULT_SHAPE) -> dict[str, object]:
    """The vector of ``shape`` = (m1, n1, m2, k1, k2, act1, act2); every draw is seeded."""
    setup = load_setup()
    m1, n1, m2, k1, k2, act1, act2 = shape
    rng = np.random.default_rng(SEED)
    pair = _layer_pair(rng, m1, n1, m2, k1, k2, act1, act2)
    (p_w, p_b), (v_w, v_b) = stack_matrices(pair.w1, pair.b1, pair.w2, pair.b2)
    draws = random.Random(SEED)
    commit_p = commit_weights(setup, p_w, p_b, rng=draws)
    commit_v = commit_weights(setup, v_w, v_b, rng=draws)
    reg_p = prove_registration(
        setup,
        commit_p,
        p_w,
        p_b,
        RegistrationStatement(chain_id=CHAIN_ID, verifier=BASE, h_w=commit_p.h_w, m=m1 + 4, n=n1),
        rng=random.Random(SEED + 2),
    )
    reg_v = prove_registration(
        setup,
        commit_v,
        v_w,
        v_b,
        RegistrationStatement(chain_id=CHAIN_ID, verifier=BASE, h_w=commit_v.h_w, m=m1 + 4, n=m2),
        rng=random.Random(SEED + 3),
    )
    layer1 = StackLayer(m1, n1, pair.mult1, k1, act1)
    layer2 = StackLayer(m2, m1, pair.mult2, k2, act2)
    statement = StackStatement.from_values(
        chain_id=CHAIN_ID,
        verifier=STACK,
        model_id=b"\x42" * 32,
        partition_index=1,
        h_p=commit_p.h_w,
        h_v=commit_v.h_w,
        layer1=layer1,
        layer2=layer2,
        x=pair.x,
        y=pair.y,
        job_id=0xA11CE,
    )
    proof = prove_stack(
        setup,
        commit_p,
        commit_v,
        pair.w1,
        pair.b1,
        pair.w2,
        pair.b2,
        statement,
        rng=random.Random(SEED + 1),
    )
    verify_stack(setup, statement, proof)
    lay = statement.layout
    vector = {
        "description": (
            f"SumKZG-ML v2-stack proof (docs/proof-system-stack.md) of layers {m1}x{n1} "
            f"(act {act1}) -> {m2}x{m1} (act {act2}), with the registration proofs of "
            "P ((m1+4) x n1) and V ((m1+4) x m2) for the base verifier at `base`; written by "
            "tests/vectors/generate_stack.py (seeded: TESTS ONLY)"
        ),
        "chain_id": CHAIN_ID,
        "base": BASE,
        "stack": STACK,
        "h_p": _hex(commit_p.h_w),
        "h_v": _hex(commit_v.h_w),
        "weight_commitment": _hex(statement.weight_commitment),
        "m1": m1,
        "n1": n1,
        "mult1": pair.mult1,
        "k1": k1,
        "act1": act1,
        "m2": m2,
        "mult2": pair.mult2,
        "k2": k2,
        "act2": act2,
        "x": _int8_hex(pair.x),
        "y": _int8_hex(pair.y),
        "model_id": _hex(statement.model_id),
        "partition_index": statement.partition_index,
        "job_id": statement.job_id,
        "reg_p": _hex(reg_p),
        "reg_v": _hex(reg_v),
        "proof": _hex(proof),
        "layout": {
            "k_wp": lay.lp.k_w,
            "k_wv": lay.lv.k_w,
            "k_l1": lay.k_l1,
            "k_l2": lay.k_l2,
            "ell": lay.ell,
        },
    }
    return vector


def main(shape: tuple[int, ...], out: Path) -> None:
    """Write the vector of another ``shape`` to ``out`` (debugging; the golden file
    ``sumkzg_stack_proof.json`` is written by ``tests/vectors/generate.py``)."""
    out.write_text(json.dumps(build(shape), indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    # Other shapes, for debugging: m1 n1 m2 k1 k2 act1 act2 out
    if len(sys.argv) != 9:
        sys.exit("usage: generate_stack.py m1 n1 m2 k1 k2 act1 act2 out.json")
    main(tuple(int(v) for v in sys.argv[1:8]), Path(sys.argv[8]))
