"""
The Solidity batch verifier (SumKZG-ML v2-batch, docs/proof-system-batch.md) against the Python
prover and verifier, on a real Anvil chain.

A one-layer commitment is registered with the single-layer ``SumKzgVerifier`` (the batch verifier's
``base``); every batch proof is made by :func:`sumkzg.batched.prove_batch` for the deployed
``SumKzgBatchVerifier``'s address and Anvil's chain id. For honest batches, byte mutations and
tampered statements, :func:`verify_batch` (raising :class:`ProofRejected`, or the statement refusing
to exist) and ``verifyBatchProof`` must agree on every case. The gas of ``verifyBatchProof`` is
measured for B = 1 and B = 16 at 32×64 (``estimate_gas`` and a real transaction's ``gasUsed``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from eth_abi.abi import encode
from web3.contract import Contract

from protocol import errors
from protocol.model_id import LAYER_HEADER_ABI
from protocol.requant import Activation, requant_array
from sumkzg.batched import batch_proof_len, prove_batch, verify_batch
from sumkzg.batched_statement import BatchStatement
from sumkzg.errors import ProofRejected, SumKzgError
from sumkzg.field import R
from sumkzg.registration import WeightCommitment, commit_weights, prove_registration
from sumkzg.setup import SETUP_ID, Setup, load_setup
from sumkzg.statement import RegistrationStatement
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

ANVIL_CHAIN_ID = 31337
MODEL_ID = b"\x42" * 32
PARTITION = 1
INFINITY = bytes(128)
GAS_REPORT = "/tmp/batch_gas.txt"


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


# --------------------------------------------------------------------------------------------------
# A layer, its commitment and batch statements


@dataclass
class Layer:
    weights: npt.NDArray[np.int8]
    biases: npt.NDArray[np.int64]
    multiplier: int
    shift: int
    activation: int
    commitment: WeightCommitment
    rng: np.random.Generator

    @property
    def m(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n(self) -> int:
        return int(self.weights.shape[1])

    def y(self, x: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
        z = self.weights.astype(np.int64) @ x.astype(np.int64) + self.biases
        return requant_array(z, self.multiplier, self.shift, Activation(self.activation))

    def inputs(self, count: int) -> list[npt.NDArray[np.int8]]:
        return [
            self.rng.integers(-128, 128, size=(self.n,), dtype=np.int64).astype(np.int8)
            for _ in range(count)
        ]

    def header(self) -> bytes:
        return encode(
            [f"{LAYER_HEADER_ABI}[]"],
            [[(self.n, self.m, self.multiplier, self.shift, self.activation)]],
        )


_LAYERS: dict[tuple[int, int, int, int], Layer] = {}


def make_layer(setup: Setup, m: int, n: int, activation: int, shift: int = 16) -> Layer:
    """Random int8 weights and int32-range biases (cached per shape: commit_weights is slow)."""
    key = (m, n, activation, shift)
    if key not in _LAYERS:
        seed = m * 1000 + n + 7 * activation
        rng = np.random.default_rng(seed)
        weights = rng.integers(-128, 128, size=(m, n), dtype=np.int64).astype(np.int8)
        biases = rng.integers(-(2**20), 2**20, size=(m,), dtype=np.int64)
        x = rng.integers(-128, 128, size=(n,), dtype=np.int64).astype(np.int8)
        z = weights.astype(np.int64) @ x.astype(np.int64) + biases
        multiplier = min(2**31 - 1, int(200 * 2**shift // max(1, int(np.abs(z).max()))) + 1)
        commitment = commit_weights(setup, weights, biases, rng=random.Random(seed))
        _LAYERS[key] = Layer(weights, biases, multiplier, shift, activation, commitment, rng)
    return _LAYERS[key]


def batch_statement(
    layer: Layer,
    verifier: str,
    xs: list[npt.NDArray[np.int8]],
    job_ids: list[int] | None = None,
    chain_id: int = ANVIL_CHAIN_ID,
) -> BatchStatement:
    return BatchStatement.from_values(
        chain_id=chain_id,
        verifier=verifier,
        model_id=MODEL_ID,
        partition_index=PARTITION,
        h_w=layer.commitment.h_w,
        multiplier=layer.multiplier,
        shift=layer.shift,
        activation=layer.activation,
        xs=xs,
        ys=[layer.y(x) for x in xs],
        job_ids=job_ids if job_ids is not None else [0xB00 + b for b in range(len(xs))],
    )


@dataclass(frozen=True)
class RawStatement:
    """An on-chain BatchStatement's fields, free to be inconsistent (for tampering)."""

    h_w: bytes
    header: bytes
    xs: tuple[bytes, ...]
    ys: tuple[bytes, ...]
    job_ids: tuple[int, ...]
    model_id: bytes = MODEL_ID
    partition_index: int = PARTITION
    setup_id: bytes = SETUP_ID

    @staticmethod
    def of(layer: Layer, s: BatchStatement) -> RawStatement:
        return RawStatement(s.h_w, layer.header(), tuple(s.xs), tuple(s.ys), tuple(s.job_ids))

    def onchain(self) -> tuple[Any, ...]:
        return (
            self.model_id,
            self.partition_index,
            self.h_w,
            self.setup_id,
            self.header,
            list(self.xs),
            list(self.ys),
            [j.to_bytes(32, "big") for j in self.job_ids],
        )

    def python(self, layer: Layer, verifier: str) -> BatchStatement:
        """The same statement for Python (raises SumKzgError if it cannot exist)."""
        if self.header != layer.header() or self.setup_id != SETUP_ID:
            raise ProofRejected("another partition")
        return BatchStatement(
            chain_id=ANVIL_CHAIN_ID,
            verifier=verifier,
            model_id=self.model_id,
            partition_index=self.partition_index,
            h_w=self.h_w,
            m=layer.m,
            n=layer.n,
            multiplier=layer.multiplier,
            shift=layer.shift,
            activation=layer.activation,
            xs=self.xs,
            ys=self.ys,
            job_ids=self.job_ids,
        )


# --------------------------------------------------------------------------------------------------
# The chain side


@dataclass
class Verifiers:
    base: Contract
    batch: Contract


def deploy_verifiers(chain: ChainEnv) -> Verifiers:
    base_c = chain.compiled["SumKzgVerifier"]
    base_address, _ = chain.deployer.deploy(base_c.abi, base_c.bytecode)
    batch_c = chain.compiled["SumKzgBatchVerifier"]
    batch_address, _ = chain.deployer.deploy(batch_c.abi, batch_c.bytecode, base_address)
    return Verifiers(
        chain.deployer.contract(base_address, base_c.abi),
        chain.deployer.contract(batch_address, batch_c.abi),
    )


_REGISTRATIONS: dict[tuple[str, bytes], bytes] = {}


def register(chain: ChainEnv, setup: Setup, v: Verifiers, layer: Layer) -> None:
    key = (v.base.address, layer.commitment.h_w)
    if key not in _REGISTRATIONS:
        statement = RegistrationStatement(
            chain_id=ANVIL_CHAIN_ID,
            verifier=v.base.address,
            h_w=layer.commitment.h_w,
            m=layer.m,
            n=layer.n,
        )
        _REGISTRATIONS[key] = prove_registration(
            setup, layer.commitment, layer.weights, layer.biases, statement
        )
    chain.owner.send(v.base.functions.registerCommitment(layer.m, layer.n, _REGISTRATIONS[key]))
    assert v.batch.functions.isWellFormed(layer.commitment.h_w, SETUP_ID, layer.header()).call()


def prove(setup: Setup, layer: Layer, s: BatchStatement) -> bytes:
    return prove_batch(setup, layer.commitment, layer.weights, layer.biases, s)


def onchain_verdict(v: Verifiers, raw: RawStatement, proof: bytes) -> bool:
    return bool(v.batch.functions.verifyBatchProof(raw.onchain(), proof).call())


def python_verdict(
    setup: Setup, layer: Layer, verifier: str, raw: RawStatement, proof: bytes
) -> bool:
    try:
        verify_batch(setup, raw.python(layer, verifier), proof)
    except SumKzgError:
        return False
    return True


def ready(
    chain: ChainEnv, setup: Setup, m: int, n: int, activation: int, shift: int = 16
) -> tuple[Verifiers, Layer]:
    v = deploy_verifiers(chain)
    layer = make_layer(setup, m, n, activation, shift)
    register(chain, setup, v, layer)
    return v, layer


# --------------------------------------------------------------------------------------------------
# Honest proofs


@pytest.mark.parametrize(
    ("m", "n", "activation", "shift", "count"),
    [
        (32, 64, 1, 16, 1),
        (32, 64, 1, 16, 2),
        (32, 64, 1, 16, 3),
        (32, 64, 1, 16, 16),
        (9, 3, 0, 20, 3),
        (5, 300, 0, 24, 5),
        # Several weight chunks (x̄ across chunk groups), the largest m' (cpc = L₂ = 16), m' = 2
        # with k = 1, a full batch of 64 and a non-power-of-two B.
        (64, 200, 1, 16, 4),
        (256, 40, 0, 20, 2),
        (1, 1, 1, 1, 7),
        (8, 8, 1, 16, 64),
        (32, 64, 0, 62, 33),
    ],
)
def test_honest_batches_verify_onchain(
    chain: ChainEnv, setup: Setup, m: int, n: int, activation: int, shift: int, count: int
) -> None:
    v, layer = ready(chain, setup, m, n, activation, shift)
    s = batch_statement(layer, v.batch.address, layer.inputs(count))
    proof = prove(setup, layer, s)
    assert len(proof) == batch_proof_len(s)
    verify_batch(setup, s, proof)
    raw = RawStatement.of(layer, s)
    assert onchain_verdict(v, raw, proof) is True
    if count == 1:
        # As an IProofVerifier: a batch of one.
        single = (MODEL_ID, PARTITION, s.h_w, SETUP_ID, layer.header(), s.xs[0], s.ys[0],
                  s.job_ids[0].to_bytes(32, "big"))  # fmt: skip
        assert v.batch.functions.verifyPartitionProof(single, proof).call() is True
        # The base verifier does not accept it (other domain and address).
        assert v.base.functions.verifyPartitionProof(single, proof).call() is False


def test_gas_per_inference(chain: ChainEnv, setup: Setup) -> None:
    v, layer = ready(chain, setup, 32, 64, 1, 16)
    lines = []
    for count in (1, 2, 16, 64):
        s = batch_statement(layer, v.batch.address, layer.inputs(count))
        proof = prove(setup, layer, s)
        call = v.batch.functions.verifyBatchProof(RawStatement.of(layer, s).onchain(), proof)
        assert call.call() is True
        gas = call.estimate_gas({"from": chain.node.address})
        used = int(chain.node.send(call, gas=gas)["gasUsed"])
        line = (
            f"verifyBatchProof 32x64 relu k=16 B={count}: estimate_gas {gas}, gas used {used} "
            f"(tx incl. 21000 + calldata), per inference {used / count:.0f}, proof {len(proof)} B"
        )
        print("\n" + line)
        lines.append(line)
    with open(GAS_REPORT, "a") as f:
        f.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------
# Mutations and tampering


def _mutations(s: BatchStatement, proof: bytes) -> list[tuple[str, bytes]]:
    """About 30 byte-level mutations over every section of the proof."""
    layout = s.layout
    k_w = layout.shape.k_w
    k_l = layout.k_l
    ell = layout.domain.ell
    c_limb = 128 * k_w
    c_mu = c_limb + 128 * k_l
    c_r = c_mu + 128
    c_lib = c_r + 128
    c_mk = c_lib + 128
    gamma = c_mk + 128
    c_h = gamma + 32
    sumcheck = c_h + 128 * k_l
    evals = sumcheck + 128 * ell
    c_a = evals + 32 * 6
    c_q = c_a + 128
    folds = c_q + 128
    fold_evals = folds + 128 * 11
    libra = fold_evals + 32 * 36
    wits = libra + 128
    assert wits + 512 == len(proof)

    def flip(at: int, bit: int = 0) -> bytes:
        b = bytearray(proof)
        b[at] ^= 1 << bit
        return bytes(b)

    def put(at: int, data: bytes) -> bytes:
        return proof[:at] + data + proof[at + len(data) :]

    def add_scalar(at: int, delta: int) -> bytes:
        v = (int.from_bytes(proof[at : at + 32], "big") + delta) % R
        return put(at, v.to_bytes(32, "big"))

    def non_canonical(at: int) -> bytes:
        v = int.from_bytes(proof[at : at + 32], "big") + R
        return put(at, v.to_bytes(32, "big")) if v < 2**256 else flip(at + 1)

    rng = random.Random(len(proof))
    out: list[tuple[str, bytes]] = [
        ("C_W x low bit", flip(c_limb - 128 + 63)),
        ("C_W padding", flip(3)),
        ("C_Limb y bit", flip(c_limb + 127)),
        ("C_Mu", flip(c_mu + 100)),
        ("C_R infinity", put(c_r, INFINITY)),
        ("C_R bit", flip(c_r + 127)),
        ("C_Lib infinity", put(c_lib, INFINITY)),
        ("C_Mk bit", flip(c_mk + 90)),
        ("Gamma +1", add_scalar(gamma, 1)),
        ("Gamma = r", put(gamma, R.to_bytes(32, "big"))),
        ("C_H bit", flip(c_h + 80)),
        ("sumcheck s0 +1", add_scalar(sumcheck, 1)),
        ("sumcheck last round s3 +1", add_scalar(evals - 32, 1)),
        ("sumcheck s1 + r (non-canonical)", non_canonical(sumcheck + 32)),
        ("eval W +1", add_scalar(evals, 1)),
        ("eval Limb +1", add_scalar(evals + 32, 1)),
        ("eval H +1", add_scalar(evals + 64, 1)),
        ("eval Mu +1", add_scalar(evals + 96, 1)),
        ("eval Mk +1", add_scalar(evals + 128, 1)),
        ("eval s_G +1", add_scalar(evals + 160, 1)),
        ("C_A infinity", put(c_a, INFINITY)),
        ("C_Q bit", flip(c_q + 70)),
        ("fold 0 bit", flip(folds + 127)),
        ("fold 10 bit", flip(folds + 128 * 10 + 100)),
        ("fold eval 0 +1", add_scalar(fold_evals, 1)),
        ("fold eval last +1", add_scalar(libra - 32, 1)),
        ("libra eval A(wb) +1", add_scalar(libra + 96, 1)),
        ("W_0 bit", flip(wits + 127)),
        ("W_3 infinity", put(wits + 384, INFINITY)),
        ("truncated", proof[:-32]),
        ("extended", proof + bytes(32)),
    ]
    for _ in range(4):
        at = rng.randrange(len(proof))
        out.append((f"random byte {at}", flip(at, rng.randrange(8))))
    return out


@pytest.mark.parametrize(
    ("m", "n", "activation", "shift", "count"),
    [(32, 64, 1, 16, 3), (64, 200, 1, 16, 4), (256, 40, 0, 20, 2), (32, 64, 1, 16, 16)],
)
def test_python_and_solidity_agree_on_every_mutation(
    chain: ChainEnv, setup: Setup, m: int, n: int, activation: int, shift: int, count: int
) -> None:
    v, layer = ready(chain, setup, m, n, activation, shift)
    s = batch_statement(layer, v.batch.address, layer.inputs(count))
    proof = prove(setup, layer, s)
    raw = RawStatement.of(layer, s)
    assert onchain_verdict(v, raw, proof)
    assert python_verdict(setup, layer, v.batch.address, raw, proof)
    disagreements = []
    for name, mutated in _mutations(s, proof):
        py = python_verdict(setup, layer, v.batch.address, raw, mutated)
        sol = onchain_verdict(v, raw, mutated)
        if py != sol:
            disagreements.append((name, py, sol))
        assert sol is False or mutated == proof, name
    assert not disagreements, disagreements


def test_python_and_solidity_agree_on_tampered_statements(chain: ChainEnv, setup: Setup) -> None:
    v, layer = ready(chain, setup, 32, 64, 1, 16)
    s = batch_statement(layer, v.batch.address, layer.inputs(3))
    proof = prove(setup, layer, s)
    raw = RawStatement.of(layer, s)
    bumped = bytearray(raw.ys[1])
    bumped[0] = (bumped[0] + 1) % 128
    cases = {
        "swapped outputs": replace(raw, ys=(raw.ys[1], raw.ys[0], raw.ys[2])),
        "swapped inputs": replace(raw, xs=(raw.xs[1], raw.xs[0], raw.xs[2])),
        "swapped instances": replace(
            raw,
            xs=(raw.xs[1], raw.xs[0], raw.xs[2]),
            ys=(raw.ys[1], raw.ys[0], raw.ys[2]),
        ),
        "swapped job ids": replace(raw, job_ids=(raw.job_ids[1], raw.job_ids[0], raw.job_ids[2])),
        "dropped instance": replace(raw, xs=raw.xs[:2], ys=raw.ys[:2], job_ids=raw.job_ids[:2]),
        "repeated job id": replace(raw, job_ids=(raw.job_ids[0], raw.job_ids[0], raw.job_ids[2])),
        "other job id": replace(raw, job_ids=(raw.job_ids[0], raw.job_ids[1], 7)),
        "output changed": replace(raw, ys=(raw.ys[0], bytes(bumped), raw.ys[2])),
        "output negative (relu)": replace(raw, ys=(raw.ys[0], b"\xff" + raw.ys[1][1:], raw.ys[2])),
        "missing output": replace(raw, ys=raw.ys[:2]),
        "missing job id": replace(raw, job_ids=raw.job_ids[:2]),
        "short input": replace(raw, xs=(raw.xs[0][:-1], raw.xs[1], raw.xs[2])),
        "model id": replace(raw, model_id=b"\x43" * 32),
        "partition index": replace(raw, partition_index=2),
        "weight commitment": replace(raw, h_w=b"\x01" * 32),
        "setup id": replace(raw, setup_id=b"\x02" * 32),
        "no instances": replace(raw, xs=(), ys=(), job_ids=()),
    }
    assert onchain_verdict(v, raw, proof) is True
    for name, tampered in cases.items():
        py = python_verdict(setup, layer, v.batch.address, tampered, proof)
        sol = onchain_verdict(v, tampered, proof)
        assert py is False, name
        assert sol is False, name
    # A proof for another verifier address or chain is refused.
    other = batch_statement(layer, v.base.address, [np.frombuffer(x, np.int8) for x in s.xs])
    assert onchain_verdict(v, raw, prove(setup, layer, other)) is False


# --------------------------------------------------------------------------------------------------
# End to end: ProofDemandGame.submitProofs with the real batch verifier


def test_submit_proofs_end_to_end(chain: ChainEnv, setup: Setup) -> None:
    """
    The digits model with layer 2 (64 → 32, relu) a one-layer sensitive partition, its commitment
    registered with the deployment's SumKzgVerifier and the partition verified by a
    SumKzgBatchVerifier on it; two claims, two demands, one batch proof. A corrupted batch proof
    reverts and changes nothing; the honest one resolves both demands as accepted.
    """
    from models.digits import MODEL_PATH
    from models.sensitive import make_sensitive
    from models.store import load_model
    from opzk.marketplace import Marketplace
    from protocol.activations import int8_bytes
    from protocol.disputes import proof_job_id
    from tests import factories

    model, commitment = make_sensitive(load_model(MODEL_PATH), 2, setup, rng=random.Random(31))
    (index,) = [i for i, p in enumerate(model.partitions) if p.sensitive]
    part = model.partitions[index]
    first, last = part.first_layer, part.last_layer
    assert first == last == 2
    layer = model.layers[first - 1]
    base = Marketplace(chain.deployment, chain.owner).verifier
    batch_c = chain.compiled["SumKzgBatchVerifier"]
    batch_address, _ = chain.deployer.deploy(batch_c.abi, batch_c.bytecode, base.address)
    batch = chain.deployer.contract(batch_address, batch_c.abi)
    reg = RegistrationStatement(
        chain_id=ANVIL_CHAIN_ID,
        verifier=base.address,
        h_w=commitment.h_w,
        m=layer.out_dim,
        n=layer.in_dim,
    )
    reg_proof = prove_registration(setup, commitment, layer.weights, layer.biases, reg)
    chain.owner.send(base.functions.registerCommitment(layer.out_dim, layer.in_dim, reg_proof))
    verifiers = [batch.address if p.sensitive else "0x" + "00" * 20 for p in model.partitions]
    model_id = chain.register(model, verifiers=verifiers)
    chain.stake()
    infs = factories.honest_batch(
        model, 6, node=chain.node.address, client=chain.client.address, seed=23
    )
    batch_id, tree, _ = chain.commit(infs)
    demands = []
    for i in (1, 4):
        receipt = chain.challenger.send(
            chain.pdg.functions.demandProof(chain.batch_ref(batch_id, tree, infs, i), index),
            value=chain.params.proof_bond,
        )
        (event,) = chain.events(chain.pdg, "ProofDemanded", receipt)
        demands.append((infs[i], int(event["demandId"])))
    s = BatchStatement.from_values(
        chain_id=ANVIL_CHAIN_ID,
        verifier=batch.address,
        model_id=model_id,
        partition_index=index,
        h_w=commitment.h_w,
        multiplier=layer.multiplier,
        shift=layer.shift,
        activation=int(layer.activation),
        xs=[inf.vectors[first - 1] for inf, _ in demands],
        ys=[inf.vectors[last] for inf, _ in demands],
        job_ids=[
            int.from_bytes(proof_job_id(ANVIL_CHAIN_ID, chain.pdg.address, d), "big")
            for _, d in demands
        ],
    )
    proof = prove_batch(setup, commitment, layer.weights, layer.biases, s)
    verify_batch(setup, s, proof)
    ids = [d for _, d in demands]
    ios = [
        (
            int8_bytes(inf.vectors[first - 1]),
            inf.entry_proof(first - 1),
            int8_bytes(inf.vectors[last]),
            inf.entry_proof(last),
        )
        for inf, _ in demands
    ]
    # A corrupted proof: the whole call reverts (BatchProofRejected), both demands stay open.
    bad = bytearray(proof)
    bad[len(bad) - 600] ^= 1
    with pytest.raises(errors.BatchProofRejected):
        chain.node.send(chain.pdg.functions.submitProofs(ids, ios, bytes(bad)))
    for d in ids:
        assert int(chain.pdg.functions.getDemand(d).call()[4]) == 1  # Open
    call = chain.pdg.functions.submitProofs(ids, ios, proof)
    gas = call.estimate_gas({"from": chain.node.address})
    receipt = chain.node.send(call, gas=gas)
    accepted = chain.events(chain.pdg, "ProofAccepted", receipt)
    assert [int(e["demandId"]) for e in accepted] == ids
    for d in ids:
        assert int(chain.pdg.functions.getDemand(d).call()[4]) == 2  # Proven
    batch_gas_used = int(receipt["gasUsed"])
    # A third demand answered alone with submitProof: a batch proof of one (verifyPartitionProof).
    receipt = chain.challenger.send(
        chain.pdg.functions.demandProof(chain.batch_ref(batch_id, tree, infs, 2), index),
        value=chain.params.proof_bond,
    )
    (event,) = chain.events(chain.pdg, "ProofDemanded", receipt)
    third = int(event["demandId"])
    inf = infs[2]
    one = BatchStatement.from_values(
        chain_id=ANVIL_CHAIN_ID,
        verifier=batch.address,
        model_id=model_id,
        partition_index=index,
        h_w=commitment.h_w,
        multiplier=layer.multiplier,
        shift=layer.shift,
        activation=int(layer.activation),
        xs=[inf.vectors[first - 1]],
        ys=[inf.vectors[last]],
        job_ids=[int.from_bytes(proof_job_id(ANVIL_CHAIN_ID, chain.pdg.address, third), "big")],
    )
    single = prove_batch(setup, commitment, layer.weights, layer.biases, one)
    io = (
        int8_bytes(inf.vectors[first - 1]),
        inf.entry_proof(first - 1),
        int8_bytes(inf.vectors[last]),
        inf.entry_proof(last),
    )
    single_receipt = chain.node.send(chain.pdg.functions.submitProof(third, io, single))
    events = chain.events(chain.pdg, "ProofAccepted", single_receipt)
    assert [int(e["demandId"]) for e in events] == [third]
    assert int(chain.pdg.functions.getDemand(third).call()[4]) == 2  # Proven
    line = (
        f"submitProofs end to end (digits layer 2, 32x64 relu, B=2): estimate_gas {gas}, "
        f"gas used {batch_gas_used}, proof {len(proof)} B; submitProof of a batch of one: "
        f"gas used {int(single_receipt['gasUsed'])}"
    )
    print("\n" + line)
    with open(GAS_REPORT, "a") as f:
        f.write(line + "\n")
