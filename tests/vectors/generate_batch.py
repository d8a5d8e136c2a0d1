"""
Build ``tests/vectors/sumkzg_batch_proof.json``: a SumKZG-ML v2-batch golden vector
(docs/proof-system-batch.md) for the Solidity ``SumKzgBatchVerifier`` to replay in forge
(``contracts/test/verifier/SumKzgBatchVerifier.t.sol``).

A 32×64 relu layer (k = 16) is committed, its registration proof made for a fixed ``base``
verifier address, and a batch proof of B = 3 instances (plus a B = 1 proof, replayed through
``verifyPartitionProof``) made for a fixed batch-verifier address, on chain id 31337. Every mask is
drawn from a seeded ``random.Random`` (TESTS ONLY, docs/proof-system-zk.md Z0), so running the
script again reproduces the file byte for byte. A few mutated proofs, each rejected by
:func:`sumkzg.batched.verify_batch`, are included for the contract to reject as well.

The file is written (and checked, ``--check``) by ``tests/vectors/generate.py`` with every other
vector file.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from protocol.requant import Activation, requant_array
from sumkzg.batched import prove_batch, verify_batch
from sumkzg.batched_statement import BatchStatement
from sumkzg.errors import ProofRejected
from sumkzg.field import R
from sumkzg.registration import commit_weights, prove_registration, verify_registration
from sumkzg.setup import load_setup
from sumkzg.statement import RegistrationStatement

OUT = Path(__file__).resolve().parent / "sumkzg_batch_proof.json"
CHAIN_ID = 31337
BASE = "0x00000000000000000000000000000000005a5e01"
BATCH = "0x00000000000000000000000000000000ba7c4001"
MODEL_ID = bytes.fromhex("42" * 32)
PARTITION = 1
M, N, SHIFT, ACTIVATION = 32, 64, 16, 1
SEED = 20261124


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def build() -> dict[str, object]:
    setup = load_setup()
    rng = np.random.default_rng(SEED)
    weights = rng.integers(-128, 128, size=(M, N), dtype=np.int64).astype(np.int8)
    biases = rng.integers(-(2**20), 2**20, size=(M,), dtype=np.int64)
    xs = [rng.integers(-128, 128, size=(N,), dtype=np.int64).astype(np.int8) for _ in range(3)]
    z = weights.astype(np.int64) @ xs[0].astype(np.int64) + biases
    multiplier = min(2**31 - 1, int(200 * 2**SHIFT // max(1, int(np.abs(z).max()))) + 1)
    commitment = commit_weights(setup, weights, biases, rng=random.Random(SEED))
    reg_statement = RegistrationStatement(
        chain_id=CHAIN_ID, verifier=BASE, h_w=commitment.h_w, m=M, n=N
    )
    reg_proof = prove_registration(
        setup, commitment, weights, biases, reg_statement, rng=random.Random(SEED + 1)
    )
    verify_registration(setup, reg_statement, reg_proof)

    def y(x: np.ndarray) -> np.ndarray:
        zz = weights.astype(np.int64) @ x.astype(np.int64) + biases
        return requant_array(zz, multiplier, SHIFT, Activation(ACTIVATION))

    def statement(inputs: list[np.ndarray], job_ids: list[int]) -> BatchStatement:
        return BatchStatement.from_values(
            chain_id=CHAIN_ID,
            verifier=BATCH,
            model_id=MODEL_ID,
            partition_index=PARTITION,
            h_w=commitment.h_w,
            multiplier=multiplier,
            shift=SHIFT,
            activation=ACTIVATION,
            xs=inputs,
            ys=[y(x) for x in inputs],
            job_ids=job_ids,
        )

    batch = statement(xs, [0xB001, 0xB002, 0xB003])
    proof = prove_batch(setup, commitment, weights, biases, batch, rng=random.Random(SEED + 2))
    verify_batch(setup, batch, proof)
    single = statement(xs[:1], [0xA11CE])
    single_proof = prove_batch(
        setup, commitment, weights, biases, single, rng=random.Random(SEED + 3)
    )
    verify_batch(setup, single, single_proof)

    rejected = []
    for name, at, delta in (
        ("first sumcheck scalar + 1", None, 1),
        ("last byte of W_3 flipped", len(proof) - 1, None),
        ("C_W byte flipped", 127, None),
    ):
        b = bytearray(proof)
        if at is None:
            # The first sumcheck scalar: after C_W[K_W] ‖ C_Limb[K_L] ‖ C_Mu ‖ C_R ‖ C_Lib ‖ C_Mk ‖
            # Γ ‖ C_H[K_L].
            layout = batch.layout
            off = 128 * (layout.shape.k_w + 2 * layout.k_l + 4) + 32
            v = (int.from_bytes(b[off : off + 32], "big") + (delta or 0)) % R
            b[off : off + 32] = v.to_bytes(32, "big")
        else:
            b[at] ^= 1
        try:
            verify_batch(setup, batch, bytes(b))
        except ProofRejected:
            rejected.append({"name": name, "proof": _hex(bytes(b))})
        else:
            raise AssertionError(f"mutation {name!r} was accepted")

    return {
        "about": "SumKZG-ML v2-batch golden vector (tests/vectors/generate_batch.py)",
        "chain_id": str(CHAIN_ID),
        "base": BASE,
        "verifier": BATCH,
        "registration": {"m": M, "n": N, "h_w": _hex(commitment.h_w), "proof": _hex(reg_proof)},
        "statement": {
            "model_id": _hex(MODEL_ID),
            "partition_index": PARTITION,
            "h_w": _hex(commitment.h_w),
            "m": M,
            "n": N,
            "multiplier": multiplier,
            "shift": SHIFT,
            "activation": ACTIVATION,
            "xs": [_hex(x) for x in batch.xs],
            "ys": [_hex(v) for v in batch.ys],
            "job_ids": [_hex(j.to_bytes(32, "big")) for j in batch.job_ids],
            "statement_bytes": _hex(batch.to_bytes()),
        },
        "proof": _hex(proof),
        "single": {
            "x": _hex(single.xs[0]),
            "y": _hex(single.ys[0]),
            "job_id": _hex(single.job_ids[0].to_bytes(32, "big")),
            "proof": _hex(single_proof),
        },
        "rejected": rejected,
    }
