"""
Prover time of SumKZG-ML v2 (docs/proof-system.md + docs/proof-system-zk.md, zero-knowledge) against
EZKL on the same one-layer partitions.

Run: ``python -m bench.prover`` (or ``./run.sh bench prover``). In one process, for each shape
``m×n`` (default 64×64, 256×256, 1024×1024) it builds one random int8 ``QLinear`` layer with relu
(the weights private), then:

- **ours**: registration (the weight commitment and its well-formedness proof, once per layer, not
  timed in ``prove_s``), then one inference proof (``prove_s``, median of ``--repeats``), its
  Python verification (``verify_s``) and its size;
- **EZKL** (``pip install -e '.[bench]'``, i.e. ezkl 23.0.5): the float ``Linear+ReLU`` layer whose
  int8 quantisation is this layer, exported to ONNX, with ``param_visibility="private"`` (input and
  output public), ``calibrate_settings(target="resources")``, ``compile_circuit``, ``gen_srs``,
  ``setup`` (timed: ``EZKL setup_s``), ``gen_witness`` + ``prove`` (timed: ``EZKL prove_s``) and
  ``verify``. EZKL's circuit proves a fixed-point ``relu(W·x + b)`` with its own calibrated scales,
  not the exact requant that ours proves, so it is if anything the smaller circuit;
- **gas**: the Solidity verifier (``contracts/src/verifier/SumKzgVerifier.sol``) deployed on a local
  Anvil: ``registerCommitment(m, n, registrationProof)``, then ``verifyPartitionProof(statement,
  proof)`` (checked to return true with ``eth_call``) sent as a transaction with a fixed 15M gas
  limit; the figure is its ``gasUsed`` (21,000 base and calldata included). ``eth_estimateGas`` is
  only cross-checked: a verifier that maps an out-of-gas precompile call to ``false`` lets its
  search settle on a rejecting run.

``gen_srs`` makes an **insecure** test SRS with a known τ: the real one (EZKL downloads a
Perpetual-Powers-of-Tau-derived file) cannot be fetched on this machine. It only matters for
security, not for the timings; its generation time is shown but excluded from ``setup_s``. EZKL at
1024×1024 takes long on 2 cores, so EZKL runs only for shapes up to ``--ezkl-max`` (default 256);
the larger rows show null EZKL columns. Without ezkl installed, or without the verifier contract or
Anvil, the matching columns are null and a line says why.

It then proves the demo's **two-layer** sensitive partition (docs/proof-system-stack.md): layers
1–2 of the digits model (``models/digits/digits.opzkmodel``, 64→64 relu then 64→32 relu, the real
weights) on the first held-out digits image, as one stack proof (``prove_s_stack``, median of
``--repeats``; the commitments to ``P`` and ``V`` and their registration proofs are not timed), its
Python verification, and on Anvil ``registerCommitment`` of ``P`` and ``V`` with
``SumKzgVerifier``, ``recordStack`` with ``SumKzgStackVerifier`` (deployed on that verifier) and
``verifyPartitionProof`` of the stack verifier, measured like the one-layer figures
(``verify_gas_stack``). ``--no-stack`` skips it.

Then a **batch** (docs/proof-system-batch.md): digits layer 2 (64→32 relu, real weights) on the
layer-1 activations of the first 16 held-out images, as one batch proof of 16 inferences
(``prove_s_b16``, median of ``--repeats``), verified in Python and on Anvil by
``SumKzgBatchVerifier.verifyBatchProof`` (deployed on the same ``SumKzgVerifier``, mined with a
fixed gas limit): ``verify_gas_b16`` and ``gas_per_inference_b16 = verify_gas_b16 / 16``.
``--no-batch`` skips it.

Prints a table, then one JSON line with ``prove_s_256``, ``ezkl_prove_s_256``, ``speedup_256``
(EZKL prove_s ÷ ours), ``verify_gas_256``, ``proof_bytes_256``, ``verify_gas_64``,
``prove_s_stack``, ``verify_gas_stack``, ``gas_per_inference_b16`` and the same figures for every
shape run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from protocol.model import QLinearLayer
from protocol.requant import Activation
from protocol.types import to_address

T = TypeVar("T")

DEFAULT_SHAPES = (64, 256, 1024)
EZKL_VERSION = "23.0.5"


# --------------------------------------------------------------------------------------------------
# The layer


def random_layer(rng: np.random.Generator, m: int, n: int) -> QLinearLayer:
    """A random ``QLinear(n → m)`` relu layer whose outputs spread over ``[0, 127]``."""
    weights = rng.integers(-128, 128, size=(m, n), dtype=np.int64).astype(np.int8)
    biases = rng.integers(-5000, 5000, size=m).astype(np.int32)
    # |z| is about 64·64·√n; scale it to about 64.
    shift = 24
    multiplier = int(2**shift / (64 * np.sqrt(n)))
    return QLinearLayer(weights, biases, multiplier, shift, Activation.RELU)


def random_input(rng: np.random.Generator, n: int) -> npt.NDArray[np.int8]:
    """``n`` random int8 inputs."""
    return rng.integers(-128, 128, size=n, dtype=np.int64).astype(np.int8)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and its wall time in seconds."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


# --------------------------------------------------------------------------------------------------
# EZKL


@dataclass(frozen=True)
class EzklResult:
    """What one EZKL run measured."""

    logrows: int
    input_scale: int
    param_scale: int
    visibility: str
    calibrate_s: float
    srs_s: float
    setup_s: float
    prove_s: float
    verify_s: float
    verified: bool
    proof_bytes: int
    pk_bytes: int


def load_ezkl() -> tuple[Any, str | None]:
    """The ``ezkl`` module, or ``None`` and why not."""
    try:
        module = importlib.import_module("ezkl")
    except ImportError as error:
        return None, f"ezkl is not importable ({error}); pip install -e '.[bench]'"
    return module, None


def export_onnx(layer: QLinearLayer, x: npt.NDArray[np.int8], path: Path) -> list[float]:
    """
    Export the float ``Linear+ReLU`` layer whose int8 quantisation is ``layer`` to ONNX.

    Weights ``W·s_w`` with ``s_w = 1/(128·√n)``, inputs ``x·s_x`` with ``s_x = 1/128``, bias
    ``b·s_w·s_x``: real-valued activations of order one, as an EZKL user would have. Returns the
    float input.
    """
    import torch

    m, n = layer.out_dim, layer.in_dim
    scale_w, scale_x = 1.0 / (128.0 * np.sqrt(n)), 1.0 / 128.0
    linear = torch.nn.Linear(n, m)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(layer.weights.astype(np.float64) * scale_w))
        linear.bias.copy_(torch.tensor(layer.biases.astype(np.float64) * scale_w * scale_x))
    net = torch.nn.Sequential(linear, torch.nn.ReLU()).eval()
    inputs = torch.tensor(x.astype(np.float64) * scale_x, dtype=torch.float32).reshape(1, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            net,
            (inputs,),
            str(path),
            input_names=["input"],
            output_names=["output"],
            dynamo=False,
            opset_version=17,
        )
    return [float(v) for v in inputs.flatten().tolist()]


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Silence file descriptors 1 and 2 (EZKL's Rust side prints calibration reports there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def run_ezkl(
    ezkl: Any,
    layer: QLinearLayer,
    x: npt.NDArray[np.int8],
    workdir: Path,
    srs_cache: dict[int, tuple[Path, float]],
    visibility: str = "private",
) -> EzklResult:
    """One EZKL pipeline on ``layer`` and ``x``; every file under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    onnx_path, settings = workdir / "net.onnx", workdir / "settings.json"
    data, compiled = workdir / "input.json", workdir / "net.ezkl"
    witness, proof = workdir / "witness.json", workdir / "proof.json"
    vk, pk = workdir / "vk.key", workdir / "pk.key"
    inputs = export_onnx(layer, x, onnx_path)
    data.write_text(json.dumps({"input_data": [inputs]}))

    run_args = ezkl.PyRunArgs()
    run_args.input_visibility = "public"
    run_args.output_visibility = "public"
    run_args.param_visibility = visibility
    with quiet_output():
        if not ezkl.gen_settings(str(onnx_path), str(settings), py_run_args=run_args):
            raise RuntimeError("ezkl gen_settings failed")
        ok, calibrate_s = timed(
            lambda: ezkl.calibrate_settings(str(data), str(onnx_path), str(settings), "resources")
        )
    if not ok:
        raise RuntimeError("ezkl calibrate_settings failed")
    chosen = json.loads(settings.read_text())["run_args"]
    logrows = int(chosen["logrows"])
    if not ezkl.compile_circuit(str(onnx_path), str(compiled), str(settings)):
        raise RuntimeError("ezkl compile_circuit failed")

    # The insecure test SRS (see the module docstring), one per logrows.
    if logrows not in srs_cache:
        srs = workdir.parent / f"kzg{logrows}.srs"
        _, srs_s = timed(lambda: ezkl.gen_srs(str(srs), logrows))
        srs_cache[logrows] = (srs, srs_s)
    srs_path, srs_s = srs_cache[logrows]

    ok, setup_s = timed(lambda: ezkl.setup(str(compiled), str(vk), str(pk), str(srs_path)))
    if not ok:
        raise RuntimeError("ezkl setup failed")

    def prove() -> Any:
        ezkl.gen_witness(str(data), str(compiled), str(witness))
        return ezkl.prove(str(witness), str(compiled), str(pk), str(proof), str(srs_path))

    _, prove_s = timed(prove)
    verified, verify_s = timed(
        lambda: bool(ezkl.verify(str(proof), str(settings), str(vk), str(srs_path)))
    )
    hex_proof = str(json.loads(proof.read_text())["hex_proof"])
    result = EzklResult(
        logrows=logrows,
        input_scale=int(chosen["input_scale"]),
        param_scale=int(chosen["param_scale"]),
        visibility=str(chosen["param_visibility"]),
        calibrate_s=calibrate_s,
        srs_s=srs_s,
        setup_s=setup_s,
        prove_s=prove_s,
        verify_s=verify_s,
        verified=verified,
        proof_bytes=len(bytes.fromhex(hex_proof.removeprefix("0x"))),
        pk_bytes=pk.stat().st_size,
    )
    pk.unlink()  # hundreds of MB per shape
    return result


# --------------------------------------------------------------------------------------------------
# Ours


@dataclass(frozen=True)
class OursResult:
    """What one SumKZG-ML run measured (Python prover and verifier)."""

    commit_s: float
    register_prove_s: float
    register_verify_s: float
    register_proof_bytes: int
    prove_s: float
    verify_s: float
    proof_bytes: int
    registration_proof: bytes
    proof: bytes
    h_w: bytes


@dataclass(frozen=True)
class Binding:
    """Where the proofs are bound: the chain id and the verifier's address (transcript, §6)."""

    chain_id: int
    verifier: str


MODEL_ID = bytes.fromhex("5a" * 32)
PARTITION_INDEX = 1
JOB_ID = 0x10B


def run_ours(
    setup: Any, layer: QLinearLayer, x: npt.NDArray[np.int8], binding: Binding, repeats: int = 3
) -> OursResult:
    """
    Commit, register (prove + verify), then prove and verify one inference of ``layer``; the
    inference prove and verify times are the medians of ``repeats`` runs (every run draws fresh
    masks, so the bytes differ; their length does not).
    """
    from sumkzg.inference import prove_inference, verify_inference
    from sumkzg.registration import commit_weights, prove_registration, verify_registration
    from sumkzg.statement import InferenceStatement, RegistrationStatement

    m, n = layer.out_dim, layer.in_dim
    commitment, commit_s = timed(lambda: commit_weights(setup, layer.weights, layer.biases))
    registration = RegistrationStatement(
        chain_id=binding.chain_id,
        verifier=to_address(binding.verifier),
        h_w=commitment.h_w,
        m=m,
        n=n,
    )
    reg_proof, register_prove_s = timed(
        lambda: prove_registration(setup, commitment, layer.weights, layer.biases, registration)
    )
    _, register_verify_s = timed(lambda: verify_registration(setup, registration, reg_proof))
    statement = InferenceStatement.from_values(
        chain_id=binding.chain_id,
        verifier=binding.verifier,
        model_id=MODEL_ID,
        partition_index=PARTITION_INDEX,
        h_w=commitment.h_w,
        multiplier=layer.multiplier,
        shift=layer.shift,
        activation=int(layer.activation),
        x=x,
        y=layer.forward(x),
        job_id=JOB_ID,
    )
    prove_times, verify_times = [], []
    for _ in range(max(1, repeats)):
        proof, seconds = timed(
            lambda: prove_inference(setup, commitment, layer.weights, layer.biases, statement)
        )
        prove_times.append(seconds)
        started = time.perf_counter()
        verify_inference(setup, statement, proof)
        verify_times.append(time.perf_counter() - started)
    prove_s, verify_s = float(np.median(prove_times)), float(np.median(verify_times))
    return OursResult(
        commit_s=commit_s,
        register_prove_s=register_prove_s,
        register_verify_s=register_verify_s,
        register_proof_bytes=len(reg_proof),
        prove_s=prove_s,
        verify_s=verify_s,
        proof_bytes=len(proof),
        registration_proof=reg_proof,
        proof=proof,
        h_w=commitment.h_w,
    )


# --------------------------------------------------------------------------------------------------
# The two-layer partition (a stack)

STACK_PARTITION_INDEX = 0
"""The digits stack is partition 0 (layers 1–2), as in the demo."""
STACK_FIRST_LAYER = 1


@dataclass(frozen=True)
class StackResult:
    """What the stack run measured (digits layers 1–2, Python prover and verifier)."""

    commit_s: float
    register_prove_s: float
    prove_s: float
    verify_s: float
    proof_bytes: int
    proof: bytes
    registration_proofs: tuple[bytes, bytes]
    """The registration proofs of ``P`` and ``V`` (bound to the base verifier)."""
    shapes: tuple[tuple[int, int], tuple[int, int]]
    """``P``'s and ``V``'s shapes, ``((m1 + 4, n1), (n2 + 4, m2))``."""
    h_p: bytes
    h_v: bytes
    h_s: bytes
    headers: bytes
    """``abi.encode(LayerHeader[])`` of the two layers."""
    x: npt.NDArray[np.int8]
    y: npt.NDArray[np.int8]


def digits_stack() -> tuple[QLinearLayer, QLinearLayer, npt.NDArray[np.int8]]:
    """Layers 1–2 of the digits model and the first held-out digits image, quantized."""
    from models.digits import MODEL_PATH
    from models.digits.train import load_split
    from models.store import load_model
    from protocol.quantize import quantize_input

    model = load_model(MODEL_PATH)
    assert model.input_scale is not None
    x = quantize_input(load_split().x_heldout[:1], model.input_scale)[0]
    first = model.layers[STACK_FIRST_LAYER - 1]
    second = model.layers[STACK_FIRST_LAYER]
    return first, second, np.asarray(x, dtype=np.int8)


def run_stack(setup: Any, base: Binding, stack: Binding, repeats: int = 3) -> StackResult:
    """
    Commit ``P`` and ``V`` of digits layers 1–2 and prove them well-formed (bound to ``base``,
    the ``SumKzgVerifier``), then prove and verify one stack inference bound to ``stack`` (the
    ``SumKzgStackVerifier``); prove and verify times are the medians of ``repeats`` runs.
    """
    from models.sensitive import stack_layer, stack_weights
    from sumkzg.registration import commit_weights, prove_registration
    from sumkzg.stack import StackStatement, prove_stack, stack_commitment_hash, verify_stack
    from sumkzg.statement import RegistrationStatement

    first, second, x = digits_stack()
    (p_w, p_b), (v_w, v_b) = stack_weights((first, second))
    started = time.perf_counter()
    commit_p = commit_weights(setup, p_w, p_b)
    commit_v = commit_weights(setup, v_w, v_b)
    commit_s = time.perf_counter() - started
    started = time.perf_counter()
    registration_proofs = tuple(
        prove_registration(
            setup,
            commitment,
            weights,
            biases,
            RegistrationStatement(
                chain_id=base.chain_id,
                verifier=to_address(base.verifier),
                h_w=commitment.h_w,
                m=commitment.m,
                n=commitment.n,
            ),
        )
        for commitment, weights, biases in ((commit_p, p_w, p_b), (commit_v, v_w, v_b))
    )
    register_prove_s = time.perf_counter() - started
    y = second.forward(first.forward(x))
    statement = StackStatement.from_values(
        chain_id=stack.chain_id,
        verifier=stack.verifier,
        model_id=MODEL_ID,
        partition_index=STACK_PARTITION_INDEX,
        h_p=commit_p.h_w,
        h_v=commit_v.h_w,
        layer1=stack_layer(first),
        layer2=stack_layer(second),
        x=x,
        y=y,
        job_id=JOB_ID,
    )
    prove_times, verify_times = [], []
    for _ in range(max(1, repeats)):
        proof, seconds = timed(
            lambda: prove_stack(
                setup,
                commit_p,
                commit_v,
                first.weights,
                first.biases,
                second.weights,
                second.biases,
                statement,
            )
        )
        prove_times.append(seconds)
        started = time.perf_counter()
        verify_stack(setup, statement, proof)
        verify_times.append(time.perf_counter() - started)
    p_reg, v_reg = registration_proofs
    return StackResult(
        commit_s=commit_s,
        register_prove_s=register_prove_s,
        prove_s=float(np.median(prove_times)),
        verify_s=float(np.median(verify_times)),
        proof_bytes=len(proof),
        proof=proof,
        registration_proofs=(p_reg, v_reg),
        shapes=((commit_p.m, commit_p.n), (commit_v.m, commit_v.n)),
        h_p=commit_p.h_w,
        h_v=commit_v.h_w,
        h_s=stack_commitment_hash(commit_p.h_w, commit_v.h_w),
        headers=_encode_layer_headers(first, second),
        x=x,
        y=np.asarray(y, dtype=np.int8),
    )


# --------------------------------------------------------------------------------------------------
# A batch of inferences of one layer (docs/proof-system-batch.md)

BATCH_SIZE = 16
"""Inferences per batch proof (``gas_per_inference_b16``)."""
BATCH_LAYER = 2
"""The digits layer proven in batches (64→32 relu), as a one-layer sensitive partition."""


@dataclass(frozen=True)
class BatchResult:
    """What the batch run measured (digits layer 2, ``BATCH_SIZE`` inferences, one proof)."""

    prove_s: float
    verify_s: float
    proof_bytes: int
    proof: bytes
    registration_proof: bytes
    shape: tuple[int, int]
    h_w: bytes
    headers: bytes
    xs: tuple[bytes, ...]
    ys: tuple[bytes, ...]
    job_ids: tuple[int, ...]


def run_batch(setup: Any, base: Binding, batch: Binding, repeats: int = 3) -> BatchResult:
    """
    Commit digits layer 2 and prove it well-formed (bound to ``base``), then prove and verify one
    batch of ``BATCH_SIZE`` inferences (bound to ``batch``, the ``SumKzgBatchVerifier``); times
    are the medians of ``repeats`` runs.
    """
    from models.digits import MODEL_PATH
    from models.digits.train import load_split
    from models.store import load_model
    from protocol.quantize import quantize_input
    from sumkzg.batched import BatchStatement, prove_batch, verify_batch
    from sumkzg.registration import commit_weights, prove_registration
    from sumkzg.statement import RegistrationStatement

    model = load_model(MODEL_PATH)
    assert model.input_scale is not None
    images = quantize_input(load_split().x_heldout[:BATCH_SIZE], model.input_scale)
    first, layer = model.layers[BATCH_LAYER - 2], model.layers[BATCH_LAYER - 1]
    xs = [first.forward(np.asarray(image, dtype=np.int8)) for image in images]
    ys = [layer.forward(x) for x in xs]
    commitment = commit_weights(setup, layer.weights, layer.biases)
    registration_proof = prove_registration(
        setup,
        commitment,
        layer.weights,
        layer.biases,
        RegistrationStatement(
            chain_id=base.chain_id,
            verifier=to_address(base.verifier),
            h_w=commitment.h_w,
            m=layer.out_dim,
            n=layer.in_dim,
        ),
    )
    job_ids = tuple(JOB_ID + b for b in range(BATCH_SIZE))
    statement = BatchStatement.from_values(
        chain_id=batch.chain_id,
        verifier=batch.verifier,
        model_id=MODEL_ID,
        partition_index=PARTITION_INDEX,
        h_w=commitment.h_w,
        multiplier=layer.multiplier,
        shift=layer.shift,
        activation=int(layer.activation),
        xs=xs,
        ys=ys,
        job_ids=job_ids,
    )
    prove_times, verify_times = [], []
    for _ in range(max(1, repeats)):
        proof, seconds = timed(
            lambda: prove_batch(setup, commitment, layer.weights, layer.biases, statement)
        )
        prove_times.append(seconds)
        started = time.perf_counter()
        verify_batch(setup, statement, proof)
        verify_times.append(time.perf_counter() - started)
    return BatchResult(
        prove_s=float(np.median(prove_times)),
        verify_s=float(np.median(verify_times)),
        proof_bytes=len(proof),
        proof=proof,
        registration_proof=registration_proof,
        shape=(layer.out_dim, layer.in_dim),
        h_w=commitment.h_w,
        headers=_encode_layer_headers(layer),
        xs=statement.xs,
        ys=statement.ys,
        job_ids=job_ids,
    )


# --------------------------------------------------------------------------------------------------
# Gas on Anvil

VERIFIER_CONTRACT = "SumKzgVerifier"
STACK_VERIFIER_CONTRACT = "SumKzgStackVerifier"
BATCH_VERIFIER_CONTRACT = "SumKzgBatchVerifier"
VERIFY_GAS_LIMIT = 15_000_000
"""Gas limit of the measured verify transaction (below EIP-7825's 2^24 cap)."""


@dataclass(frozen=True)
class GasResult:
    """The Solidity verifier's gas for one shape (whole transactions, calldata included)."""

    register_gas: int | None
    verify_gas: int | None
    accepted: bool | None
    note: str = ""


class Chain:
    """Anvil with :data:`VERIFIER_CONTRACT` deployed, or the reason it is not available."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.contract: Any = None
        self.client: Any = None
        self.reason: str | None = None
        self.binding = Binding(chain_id=31337, verifier="0x" + "00" * 19 + "01")
        self.stack_contract: Any = None
        self.stack_reason: str | None = None
        self.stack_binding = Binding(chain_id=31337, verifier="0x" + "00" * 19 + "02")
        self.batch_contract: Any = None
        self.batch_reason: str | None = None
        self.batch_binding = Binding(chain_id=31337, verifier="0x" + "00" * 19 + "03")
        try:
            from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
            from deploy.compiler import compile_contracts
            from opzk.chain import connect

            contracts = compile_contracts()
            if VERIFIER_CONTRACT not in contracts:
                self.reason = f"{VERIFIER_CONTRACT} is not among the compiled contracts yet"
                return
            compiled = contracts[VERIFIER_CONTRACT]
            # No code-size override: the contract must fit EIP-170 as it will on a real chain.
            anvil = stack.enter_context(AnvilNode(balance=1_000_000))
            self.client = connect(anvil.rpc_url, ANVIL_DEFAULT_KEYS[0], timeout=120.0)
            address, _ = self.client.deploy(compiled.abi, compiled.bytecode)
            self.contract = self.client.contract(address, compiled.abi)
            self.binding = Binding(chain_id=int(self.client.chain_id), verifier=address)
            if STACK_VERIFIER_CONTRACT not in contracts:
                self.stack_reason = f"{STACK_VERIFIER_CONTRACT} is not among the compiled contracts"
            else:
                built = contracts[STACK_VERIFIER_CONTRACT]
                stack_address, _ = self.client.deploy(built.abi, built.bytecode, address)
                self.stack_contract = self.client.contract(stack_address, built.abi)
                self.stack_binding = Binding(self.binding.chain_id, stack_address)
            if BATCH_VERIFIER_CONTRACT not in contracts:
                self.batch_reason = f"{BATCH_VERIFIER_CONTRACT} is not among the compiled contracts"
            else:
                built = contracts[BATCH_VERIFIER_CONTRACT]
                batch_address, _ = self.client.deploy(built.abi, built.bytecode, address)
                self.batch_contract = self.client.contract(batch_address, built.abi)
                self.batch_binding = Binding(self.binding.chain_id, batch_address)
        except Exception as error:  # any failure here only nulls the gas column
            self.contract = None
            first = " ".join(str(error).split("\n")[:3])
            self.reason = (
                f"no gas figures (on-chain verifier unavailable): {type(error).__name__}: {first}"
            )

    def measure(self, layer: QLinearLayer, x: npt.NDArray[np.int8], ours: OursResult) -> GasResult:
        """``registerCommitment`` (mined), then ``verifyPartitionProof`` (call, mined, estimate)."""
        if self.contract is None:
            return GasResult(None, None, None)  # the reason is printed once
        from opzk.marketplace import gas_used

        m, n = layer.out_dim, layer.in_dim
        try:
            receipt = self.client.send(
                self.contract.functions.registerCommitment(m, n, ours.registration_proof)
            )
            register_gas = int(gas_used(receipt))
        except Exception as error:
            return GasResult(None, None, None, f"registerCommitment failed: {error}")
        headers = _encode_layer_headers(layer)
        statement = (
            MODEL_ID,
            PARTITION_INDEX,
            ours.h_w,
            _setup_id(),
            headers,
            x.tobytes(),
            layer.forward(x).tobytes(),
            JOB_ID.to_bytes(32, "big"),
        )
        call = self.contract.functions.verifyPartitionProof(statement, ours.proof)
        # With ample gas: a verifier that turns an out-of-gas precompile call into `false` would
        # let eth_estimateGas's search settle on a run that rejects, so the figure is the gasUsed
        # of a mined transaction with the gas limit fixed; estimate_gas is only cross-checked.
        ample = {"from": self.client.address, "gas": VERIFY_GAS_LIMIT}
        try:
            accepted = bool(call.call(ample))
            receipt = self.client.send(call, gas=VERIFY_GAS_LIMIT)
            verify_gas = int(gas_used(receipt))
            estimate = int(call.estimate_gas({"from": self.client.address}))
        except Exception as error:
            return GasResult(register_gas, None, None, f"verifyPartitionProof failed: {error}")
        if not accepted:
            # The gas of a rejection is not the verifier's cost: leave the figure null.
            note = f"the contract REJECTED the proof (that call used {verify_gas:,} gas); no figure"
            return GasResult(register_gas, None, False, note)
        note = ""
        if abs(estimate - verify_gas) > verify_gas // 50:
            note = (
                f"{m}×{n}: eth_estimateGas says {estimate:,}, the mined verify used {verify_gas:,}"
            )
        return GasResult(register_gas, verify_gas, True, note)

    def measure_stack(self, ours: StackResult) -> GasResult:
        """
        ``registerCommitment`` of ``P`` and ``V`` with the base verifier and ``recordStack`` with
        the stack verifier (mined; ``register_gas`` is their sum), then the stack verifier's
        ``verifyPartitionProof`` (call, mined with a fixed gas limit, estimate), as :meth:`measure`.
        """
        if self.contract is None or self.stack_contract is None:
            return GasResult(None, None, None)  # the reason is printed once
        from opzk.marketplace import gas_used

        try:
            register_gas = 0
            for (m, n), proof in zip(ours.shapes, ours.registration_proofs, strict=True):
                receipt = self.client.send(self.contract.functions.registerCommitment(m, n, proof))
                register_gas += int(gas_used(receipt))
            receipt = self.client.send(
                self.stack_contract.functions.recordStack(ours.h_p, ours.h_v, ours.headers)
            )
            register_gas += int(gas_used(receipt))
        except Exception as error:
            return GasResult(None, None, None, f"stack registration failed: {error}")
        statement = (
            MODEL_ID,
            STACK_PARTITION_INDEX,
            ours.h_s,
            _setup_id(),
            ours.headers,
            ours.x.tobytes(),
            ours.y.tobytes(),
            JOB_ID.to_bytes(32, "big"),
        )
        call = self.stack_contract.functions.verifyPartitionProof(statement, ours.proof)
        ample = {"from": self.client.address, "gas": VERIFY_GAS_LIMIT}
        try:
            accepted = bool(call.call(ample))
            receipt = self.client.send(call, gas=VERIFY_GAS_LIMIT)
            verify_gas = int(gas_used(receipt))
            estimate = int(call.estimate_gas({"from": self.client.address}))
        except Exception as error:
            return GasResult(
                register_gas, None, None, f"stack verifyPartitionProof failed: {error}"
            )
        if not accepted:
            note = f"the stack verifier REJECTED the proof (that call used {verify_gas:,} gas)"
            return GasResult(register_gas, None, False, note)
        note = ""
        if abs(estimate - verify_gas) > verify_gas // 50:
            note = f"stack: eth_estimateGas says {estimate:,}, the mined verify used {verify_gas:,}"
        return GasResult(register_gas, verify_gas, True, note)

    def measure_batch(self, ours: BatchResult) -> GasResult:
        """
        ``registerCommitment`` of the layer with the base verifier (mined), then the batch
        verifier's ``verifyBatchProof`` (call, mined with a fixed gas limit, estimate), as
        :meth:`measure`.
        """
        if self.contract is None or self.batch_contract is None:
            return GasResult(None, None, None)  # the reason is printed once
        from opzk.marketplace import gas_used

        try:
            m, n = ours.shape
            receipt = self.client.send(
                self.contract.functions.registerCommitment(m, n, ours.registration_proof)
            )
            register_gas = int(gas_used(receipt))
        except Exception as error:
            return GasResult(None, None, None, f"batch registerCommitment failed: {error}")
        statement = (
            MODEL_ID,
            PARTITION_INDEX,
            ours.h_w,
            _setup_id(),
            ours.headers,
            list(ours.xs),
            list(ours.ys),
            [job.to_bytes(32, "big") for job in ours.job_ids],
        )
        call = self.batch_contract.functions.verifyBatchProof(statement, ours.proof)
        ample = {"from": self.client.address, "gas": VERIFY_GAS_LIMIT}
        try:
            accepted = bool(call.call(ample))
            receipt = self.client.send(call, gas=VERIFY_GAS_LIMIT)
            verify_gas = int(gas_used(receipt))
        except Exception as error:
            return GasResult(register_gas, None, None, f"verifyBatchProof failed: {error}")
        if not accepted:
            note = f"the batch verifier REJECTED the proof (that call used {verify_gas:,} gas)"
            return GasResult(register_gas, None, False, note)
        return GasResult(register_gas, verify_gas, True)


def _encode_layer_headers(*layers: QLinearLayer) -> bytes:
    """``abi.encode(LayerHeader[])`` of the layers (``inDim, outDim, M, k, activation`` each)."""
    from eth_abi.abi import encode

    headers = [(q.in_dim, q.out_dim, q.multiplier, q.shift, int(q.activation)) for q in layers]
    return bytes(encode(["(uint32,uint32,uint32,uint8,uint8)[]"], [headers]))


def _setup_id() -> bytes:
    from sumkzg.setup import SETUP_ID

    return SETUP_ID


# --------------------------------------------------------------------------------------------------
# The run


def _fmt(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.prover",
        description=(__doc__ or "").split("\n\n")[0].strip().replace("\n", " "),
    )
    parser.add_argument(
        "--shapes",
        default=",".join(str(s) for s in DEFAULT_SHAPES),
        help="square layer sizes m = n, comma-separated (default 64,256,1024)",
    )
    parser.add_argument(
        "--ezkl-max",
        type=int,
        default=256,
        help="run EZKL only for sizes up to this (default 256: at 1024 EZKL needs logrows 20, "
        "a 2^20 test SRS and a multi-GB proving key, tens of minutes on 2 cores)",
    )
    parser.add_argument("--no-ezkl", action="store_true", help="skip EZKL")
    parser.add_argument("--no-gas", action="store_true", help="skip Anvil and the gas figures")
    parser.add_argument(
        "--no-stack", action="store_true", help="skip the two-layer (stack) digits partition"
    )
    parser.add_argument(
        "--no-batch", action="store_true", help="skip the batch of 16 inferences in one proof"
    )
    parser.add_argument(
        "--ezkl-visibility",
        default="private",
        choices=("private", "polycommit"),
        help="EZKL param_visibility (default private)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="EZKL files (default a tempdir)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="our prove/verify: median of this many runs"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--backend",
        choices=("numpy", "torch", "auto"),
        default=None,
        help="prover backend (sumkzg.accel; default: $OPZK_PROVER_BACKEND, else auto)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shapes = [int(s) for s in str(args.shapes).split(",") if s.strip()]
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    notes: list[str] = []

    from sumkzg import accel
    from sumkzg.setup import load_setup

    if args.backend is not None:
        accel.use_backend(args.backend)
    notes.append(f"prover backend: {accel.active_backend()}")

    setup, load_s = timed(load_setup)
    notes.append(f"trusted setup (c-kzg, 4096 G1 points) loaded and checked in {load_s:.1f} s")

    ezkl: Any = None
    if args.no_ezkl:
        notes.append("EZKL skipped (--no-ezkl)")
    else:
        ezkl, why = load_ezkl()
        if why:
            notes.append(why)
        else:
            notes.append(
                f"EZKL {getattr(ezkl, '__version__', EZKL_VERSION)}: param_visibility "
                f"{args.ezkl_visibility}, input/output public, calibrate target 'resources'; "
                "SRS from ezkl.gen_srs (INSECURE test SRS with a known τ — the real "
                "Perpetual-Powers-of-Tau download is unreachable here; timings are unaffected)"
            )

    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        chain: Chain | None = None
        if args.no_gas:
            notes.append("gas skipped (--no-gas)")
        else:
            chain = Chain(stack)
            if chain.reason:
                notes.append(chain.reason)
        binding = chain.binding if chain is not None else Binding(31337, "0x" + "00" * 19 + "01")
        workdir = args.workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-prover-"))
        )
        srs_cache: dict[int, tuple[Path, float]] = {}
        for size in shapes:
            layer = random_layer(rng, size, size)
            x = random_input(rng, size)
            ours = run_ours(setup, layer, x, binding, args.repeats)
            gas = chain.measure(layer, x, ours) if chain is not None else None
            if gas is not None and gas.note:
                notes.append(
                    gas.note if gas.note.startswith(f"{size}×") else f"{size}×{size}: {gas.note}"
                )
            ez: EzklResult | None = None
            if ezkl is not None and size <= args.ezkl_max:
                try:
                    ez = run_ezkl(
                        ezkl, layer, x, workdir / f"{size}x{size}", srs_cache, args.ezkl_visibility
                    )
                    if not ez.verified:
                        notes.append(f"{size}×{size}: EZKL's proof did NOT verify")
                except Exception as error:
                    notes.append(f"{size}×{size}: EZKL failed: {type(error).__name__}: {error}")
            elif ezkl is not None:
                notes.append(f"{size}×{size}: EZKL not run (above --ezkl-max {args.ezkl_max})")
            rows.append({"size": size, "ours": ours, "gas": gas, "ezkl": ez})
        stack_row: StackResult | None = None
        stack_gas: GasResult | None = None
        if args.no_stack:
            notes.append("two-layer stack skipped (--no-stack)")
        else:
            stack_binding = (
                chain.stack_binding
                if chain is not None
                else Binding(31337, "0x" + "00" * 19 + "02")
            )
            stack_row = run_stack(setup, binding, stack_binding, args.repeats)
            if chain is not None:
                if chain.stack_reason:
                    notes.append(chain.stack_reason)
                stack_gas = chain.measure_stack(stack_row)
                if stack_gas.note:
                    notes.append(stack_gas.note)
        batch_row: BatchResult | None = None
        batch_gas: GasResult | None = None
        if args.no_batch:
            notes.append("batch of 16 skipped (--no-batch)")
        else:
            batch_binding = (
                chain.batch_binding
                if chain is not None
                else Binding(31337, "0x" + "00" * 19 + "03")
            )
            batch_row = run_batch(setup, binding, batch_binding, args.repeats)
            if chain is not None:
                if chain.batch_reason:
                    notes.append(chain.batch_reason)
                batch_gas = chain.measure_batch(batch_row)
                if batch_gas.note:
                    notes.append(batch_gas.note)

    header = (
        f"{'shape':>11} {'prove_s':>8} {'verify_s':>8} {'proof_B':>8} {'reg_s':>7} "
        f"{'verify_gas':>10} {'reg_gas':>10} {'ezkl_lr':>7} {'ezkl_setup_s':>12} "
        f"{'ezkl_prove_s':>12} {'speedup':>8}"
    )
    print(header)
    print("-" * len(header))
    figures: dict[str, Any] = {}
    for row in rows:
        size, ours, gas, ez = row["size"], row["ours"], row["gas"], row["ezkl"]
        assert isinstance(ours, OursResult)
        speedup = ez.prove_s / ours.prove_s if ez is not None else None
        verify_gas = gas.verify_gas if gas is not None else None
        register_gas = gas.register_gas if gas is not None else None
        print(
            f"{f'{size}×{size}':>11} {ours.prove_s:>8.2f} {ours.verify_s:>8.3f} "
            f"{ours.proof_bytes:>8,} {ours.register_prove_s:>7.2f} {_fmt(verify_gas, ',d'):>10} "
            f"{_fmt(register_gas, ',d'):>10} {_fmt(ez.logrows if ez else None, 'd'):>7} "
            f"{_fmt(ez.setup_s if ez else None, '.2f'):>12} "
            f"{_fmt(ez.prove_s if ez else None, '.2f'):>12} {_fmt(speedup, '.1f'):>8}"
        )
        figures |= {
            f"prove_s_{size}": round(ours.prove_s, 3),
            f"verify_s_{size}": round(ours.verify_s, 4),
            f"proof_bytes_{size}": ours.proof_bytes,
            f"register_prove_s_{size}": round(ours.register_prove_s, 3),
            f"verify_gas_{size}": verify_gas,
            f"register_gas_{size}": register_gas,
            f"ezkl_setup_s_{size}": round(ez.setup_s, 3) if ez else None,
            f"ezkl_prove_s_{size}": round(ez.prove_s, 3) if ez else None,
            f"ezkl_verify_s_{size}": round(ez.verify_s, 4) if ez else None,
            f"ezkl_logrows_{size}": ez.logrows if ez else None,
            f"ezkl_proof_bytes_{size}": ez.proof_bytes if ez else None,
            f"ezkl_pk_bytes_{size}": ez.pk_bytes if ez else None,
            f"ezkl_srs_gen_s_{size}": round(ez.srs_s, 2) if ez else None,
            f"speedup_{size}": round(speedup, 2) if speedup is not None else None,
        }
    if stack_row is not None:
        verify_gas = stack_gas.verify_gas if stack_gas is not None else None
        register_gas = stack_gas.register_gas if stack_gas is not None else None
        print(
            f"{'stack 1–2':>11} {stack_row.prove_s:>8.2f} {stack_row.verify_s:>8.3f} "
            f"{stack_row.proof_bytes:>8,} {stack_row.register_prove_s:>7.2f} "
            f"{_fmt(verify_gas, ',d'):>10} {_fmt(register_gas, ',d'):>10}"
        )
        figures |= {
            "prove_s_stack": round(stack_row.prove_s, 3),
            "verify_gas_stack": verify_gas,
            "verify_s_stack": round(stack_row.verify_s, 4),
            "proof_bytes_stack": stack_row.proof_bytes,
            "register_prove_s_stack": round(stack_row.register_prove_s, 3),
            "register_gas_stack": register_gas,
        }
    if batch_row is not None:
        verify_gas = batch_gas.verify_gas if batch_gas is not None else None
        register_gas = batch_gas.register_gas if batch_gas is not None else None
        print(
            f"{'batch ×16':>11} {batch_row.prove_s:>8.2f} {batch_row.verify_s:>8.3f} "
            f"{batch_row.proof_bytes:>8,} {'-':>7} "
            f"{_fmt(verify_gas, ',d'):>10} {_fmt(register_gas, ',d'):>10}"
        )
        figures |= {
            "prove_s_b16": round(batch_row.prove_s, 3),
            "verify_gas_b16": verify_gas,
            "gas_per_inference_b16": verify_gas // BATCH_SIZE if verify_gas is not None else None,
            "verify_s_b16": round(batch_row.verify_s, 4),
            "proof_bytes_b16": batch_row.proof_bytes,
        }
    print()
    for line in (
        "prove_s/verify_s: our Python prover/verifier, one inference proof (median of --repeats).",
        "batch ×16: digits layer 2 (64→32 relu, real weights) on 16 images' layer-1 activations,",
        "one batch proof; its verify_gas is SumKzgBatchVerifier.verifyBatchProof of all 16.",
        "stack 1–2: digits layers 1–2 (64→64 relu, 64→32 relu, real weights) as one two-layer",
        "partition proof; its reg_s proves P and V, its reg_gas is their registerCommitment and",
        "recordStack; its verify_gas is SumKzgStackVerifier.verifyPartitionProof.",
        "reg_s: the registration proof, once per layer. verify_gas/reg_gas: gasUsed of mined",
        "verifyPartitionProof/registerCommitment transactions to the Solidity verifier (21,000",
        "base and calldata included). speedup = EZKL prove_s / our prove_s. EZKL setup_s is its",
        "one-time proving-key generation; EZKL prove_s includes gen_witness.",
    ):
        print(line)
    for row in rows:
        ez = row["ezkl"]
        if ez is not None:
            print(
                f"EZKL {row['size']}×{row['size']}: logrows {ez.logrows}, scales in/param "
                f"{ez.input_scale}/{ez.param_scale}, {ez.visibility}, proof {ez.proof_bytes:,} B, "
                f"pk {ez.pk_bytes / 2**20:,.0f} MiB, verify {ez.verify_s:.3f} s "
                f"({'ok' if ez.verified else 'FAILED'}), test SRS generated in {ez.srs_s:.1f} s"
            )
    for note in notes:
        print(f"note: {note}")
    # The keys the brief asks for first, then every other figure.
    keys = ["prove_s_256", "ezkl_prove_s_256", "speedup_256", "verify_gas_256", "proof_bytes_256"]
    keys += ["verify_gas_64", "prove_s_stack", "verify_gas_stack", "gas_per_inference_b16"]
    summary = {key: figures.get(key) for key in keys}
    summary |= {key: value for key, value in figures.items() if key not in summary}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["cpus"] = os.cpu_count()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
