"""
The proof responder: answers proof demands against this node's claims with SumKZG-ML proofs.

Introduction
------------
A challenger who doubts a sensitive (private-weight) partition of one of this node's claims calls
``ProofDemandGame.demandProof``; the watcher (:mod:`node.watcher`) records the ``ProofDemanded``
in the ``proof_demands`` table (:class:`node.store.ProofDemandRecord`, status ``open``), for a
batch receipt or an on-chain request alike. :class:`ProofResponder` then, on its own worker thread
(never on the request path, never on the chain job's thread):

1. asks the chain whether the demand is still open and before its deadline;
2. builds the job (:func:`build_job`): the claim's stored trace gives the partition's input
   ``h_{a−1}`` and output ``h_b`` with their Merkle proofs against the claim's trace root; the
   model's **commitment sidecar** (:mod:`models.sensitive`) gives the weight commitment(s) with
   their secret blinding; the statement binds the chain id, the partition's verifier (as
   registered), the model, the partition, the commitment, the layers' ``m, n, M, k`` and
   activations, ``x``, ``y`` and the demand's job id ``keccak256(abi.encode(chainid, game,
   demandId))`` (:func:`protocol.disputes.proof_job_id`, the event's ``jobId``). A one-layer
   partition gets a :class:`sumkzg.InferenceStatement` (``H_W``); a two-layer partition (a stack,
   docs/proof-system-stack.md) a :class:`sumkzg.stack.StackStatement` (``H_P``, ``H_V``, both
   layers; its verifier is the deployment's ``SumKzgStackVerifier``, the hidden intermediate
   activation is recomputed by the prover, never read from the store);
3. proves (:func:`sumkzg.prove_inference`, or :func:`sumkzg.stack.prove_stack` for a stack),
   timing it;
4. sends ``submitProof(demandId, PartitionIO, proof)`` crash-safely: signed, the transaction hash
   and the proof recorded (status ``sending``), broadcast, awaited; the mined receipt gives the
   outcome and the gas (verification included). The outcome event (``ProofAccepted``,
   ``ProofRejected``) reaches the dispute history through the watcher as every other event.

**Restart-safe and idempotent.** A demand is answered at most once: the chain is asked before
proving and before signing, the contract refuses a second answer (``DemandNotOpen``), and a demand
left ``sending`` by a crash is finished from its recorded transaction (awaited if the chain knows
it, re-sent with the stored proof if the demand is still open, else closed with the chain's status).
A demand left ``open`` is proven after a restart if its deadline allows.

A demand the node cannot prove (its model is no longer served, the sidecar is missing or does not
match, a partition of more than two layers, a stored trace that contradicts the committed weights)
is marked ``unanswerable`` with the reason, logged as an error; the node will be slashed when the
deadline passes. Cheat modes (:mod:`node.cheats`, Anvil only) act here: ``refused_proof`` never
answers (``refused``), ``invalid_proof`` flips a bit of the proof's first sumcheck scalar before
sending it (:func:`corrupt_proof`: still well-encoded, so the verifier runs and rejects it); both
mark their cheat record ``effective``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prometheus_client import Histogram
from web3.logs import DISCARD
from web3.types import TxReceipt

from models.sensitive import (
    PartitionCommitment,
    SensitiveModelError,
    SidecarError,
    StackCommitment,
    commitment_hash,
    load_sidecar,
    sensitive_layers,
    stack_layer,
)
from opzk.chain import TransactionFailedError
from protocol import errors
from protocol.disputes import proof_job_id
from protocol.errors import OpzkError
from protocol.model import QLinearLayer
from protocol.receipts import CLAIM_SOURCE_BATCH, CLAIM_SOURCE_REQUEST
from protocol.trace import trace_tree
from sumkzg import (
    InferenceStatement,
    Setup,
    StatementError,
    SumKzgError,
    WeightCommitment,
    load_setup,
    prove_inference,
)
from sumkzg.proof import InferenceProof
from sumkzg.stack import StackStatement, prove_stack

from .chainio import NodeChain
from .cheats import CheatMode, CheatPlan
from .claims import split_trace
from .metrics import NodeMetrics
from .records import ReceiptRecord
from .runtime import ModelRuntime, ServedModel
from .store import (
    PROOF_PENDING,
    ProofDemandRecord,
    ProofStatus,
    Store,
)

log = logging.getLogger(__name__)

PartitionIO = tuple[bytes, list[bytes], bytes, list[bytes]]
"""``ProofDemandGame.PartitionIO``: input, its trace proof, output, its trace proof."""

_CHAIN_STATUS = {2: ProofStatus.ACCEPTED, 3: ProofStatus.REJECTED, 4: ProofStatus.TIMED_OUT}
"""``ProofDemandGame.Status`` values of a closed demand."""
_STATUS_OPEN = 1


class ProofJobError(OpzkError):
    """This node cannot prove a demand (the message says why, in one line)."""


# --------------------------------------------------------------------------------------------------
# Building a job (pure: the store, the runtime and the sidecars; no chain)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofJob:
    """Everything needed to prove and answer one demand."""

    demand_id: int
    source: int
    request_id: int
    served: ServedModel
    layers: tuple[QLinearLayer, ...]
    """The partition's layers: one, or two (a stack)."""
    commitment: PartitionCommitment
    """``WeightCommitment`` of one layer, ``StackCommitment`` of a stack (with the secrets)."""
    statement: InferenceStatement | StackStatement
    """``InferenceStatement`` of one layer, ``StackStatement`` of a stack."""
    io: PartitionIO


class CommitmentCache:
    """The commitment sidecars of the served models, read once each (thread-safe)."""

    def __init__(self) -> None:
        self._by_model: dict[bytes, dict[int, PartitionCommitment]] = {}
        self._lock = threading.Lock()

    def get(self, served: ServedModel) -> dict[int, PartitionCommitment]:
        """
        Partition index → commitment of ``served``.

        Raises
        ------
        SidecarError
            If the sidecar is missing or does not belong to the model.
        """
        with self._lock:
            found = self._by_model.get(served.model_id)
        if found is None:
            found = load_sidecar(served.path, served.model)
            with self._lock:
                self._by_model[served.model_id] = found
        return found


def _claim_vectors(
    store: Store, demand: ProofDemandRecord
) -> tuple[bytes, bytes, list[bytes], ReceiptRecord | None]:
    """
    (model id, packed public trace, committed activation hashes, the receipt if a batch claim) of
    the demanded claim.
    """
    if demand.request_id is None:
        raise ProofJobError(f"demand {demand.demand_id} names a claim this node has no record of")
    if demand.source == CLAIM_SOURCE_BATCH:
        receipt = store.receipt(demand.request_id)
        if receipt is None:
            raise ProofJobError(f"receipt {demand.request_id} is not in the store")
        return receipt.model_id, receipt.trace, receipt.activation_hash_list(), receipt
    if demand.source == CLAIM_SOURCE_REQUEST:
        request = store.onchain_request(demand.request_id)
        if request is None or request.trace is None or request.activation_hashes is None:
            raise ProofJobError(f"on-chain request {demand.request_id} has no stored trace")
        raw = request.activation_hashes
        hashes = [raw[i : i + 32] for i in range(0, len(raw), 32)]
        return request.model_id, request.trace, hashes, None
    raise ProofJobError(f"demand {demand.demand_id} has unknown claim source {demand.source}")


def build_job(
    demand: ProofDemandRecord,
    *,
    store: Store,
    runtime: ModelRuntime,
    commitments: CommitmentCache,
    chain_id: int,
    verifier: str,
) -> ProofJob:
    """
    The job of answering ``demand``: statement, partition I/O and what the prover needs.

    Parameters
    ----------
    demand :
        The recorded demand (its claim must be one of this node's).
    store, runtime :
        Where the claim's trace and the served model are.
    commitments :
        The sidecars of the served models.
    chain_id, verifier :
        The chain, and the partition's verifier as registered (both bound by the statement).

    Returns
    -------
    job : `ProofJob`

    Raises
    ------
    ProofJobError
        If the node cannot prove this demand (the message says why).
    """
    model_id, trace, hashes, receipt = _claim_vectors(store, demand)
    served = runtime.models.get(model_id)
    if served is None:
        raise ProofJobError(f"model 0x{model_id.hex()} is no longer served by this node")
    index = demand.partition_index
    try:
        layers = sensitive_layers(served.model, index)
        commitment = commitments.get(served)[index]
    except SidecarError as error:
        raise ProofJobError(str(error)) from error
    except SensitiveModelError as error:
        raise ProofJobError(f"model 0x{model_id.hex()}: {error}") from error
    except KeyError as error:
        raise ProofJobError(
            f"the sidecar of {served.path} has no commitment for partition {index}"
        ) from error
    spec = served.model.partitions[index]
    a, b = spec.first_layer - 1, spec.last_layer
    vectors = split_trace(served, trace)
    if receipt is not None and runtime.cheats is not None:
        # What the trace root commits to (a bad_endpoint cheat's trace has its own endpoints).
        hashes = runtime.cheats.committed_hashes(receipt, vectors)
    x, y = vectors[a], vectors[b]
    if x is None or y is None:  # the partition's input and output are never hidden
        raise ProofJobError(f"trace entries {a} and {b} are not stored")
    tree = trace_tree(hashes)
    io: PartitionIO = (
        x.tobytes(),
        [bytes(h) for h in tree.proof(a)],
        y.tobytes(),
        [bytes(h) for h in tree.proof(b)],
    )
    job_id = int.from_bytes(proof_job_id(chain_id, demand.game, demand.demand_id), "big")
    statement: InferenceStatement | StackStatement
    try:
        if isinstance(commitment, StackCommitment):
            first, second = layers
            statement = StackStatement(
                chain_id=chain_id,
                verifier=verifier,
                model_id=model_id,
                partition_index=index,
                h_p=commitment.p.h_w,
                h_v=commitment.v.h_w,
                layer1=stack_layer(first),
                layer2=stack_layer(second),
                x=x.tobytes(),
                y=y.tobytes(),
                job_id=job_id,
            )
        else:
            (layer,) = layers
            statement = InferenceStatement(
                chain_id=chain_id,
                verifier=verifier,
                model_id=model_id,
                partition_index=index,
                h_w=commitment.h_w,
                m=layer.out_dim,
                n=layer.in_dim,
                multiplier=layer.multiplier,
                shift=layer.shift,
                activation=int(layer.activation),
                x=x.tobytes(),
                y=y.tobytes(),
                job_id=job_id,
            )
    except (StatementError, SumKzgError) as error:
        raise ProofJobError(f"the claim's partition output cannot be proven: {error}") from error
    assert demand.source is not None and demand.request_id is not None
    return ProofJob(
        demand_id=demand.demand_id,
        source=demand.source,
        request_id=demand.request_id,
        served=served,
        layers=layers,
        commitment=commitment,
        statement=statement,
        io=io,
    )


def prove_job(setup: Setup, job: ProofJob) -> bytes:
    """
    The SumKZG-ML proof of ``job``: an inference proof of one layer, or a stack proof of two.

    Raises
    ------
    ProofJobError
        If the stored output is not what the committed layers compute (a lie cannot be proven).
    """
    try:
        if isinstance(job.statement, StackStatement):
            assert isinstance(job.commitment, StackCommitment)
            first, second = job.layers
            return prove_stack(
                setup,
                job.commitment.p,
                job.commitment.v,
                first.weights,
                first.biases,
                second.weights,
                second.biases,
                job.statement,
            )
        assert isinstance(job.commitment, WeightCommitment)
        (layer,) = job.layers
        return prove_inference(setup, job.commitment, layer.weights, layer.biases, job.statement)
    except SumKzgError as error:
        raise ProofJobError(f"cannot prove demand {job.demand_id}: {error}") from error


def corrupt_proof(proof: bytes, statement: InferenceStatement | StackStatement) -> bytes:
    """
    ``proof`` with one bit flipped in the low byte of the first sumcheck scalar (cheat mode
    ``invalid_proof``): still a well-encoded proof (a canonical scalar), so the verifier runs and
    rejects it. The scalar's offset is the proof layout's: docs/proof-system.md for one layer, S7
    of docs/proof-system-stack.md for a stack (after every commitment of rounds 1 and 2 and the
    scalar ``Γ``), as the statement's layout computes it.
    """
    if isinstance(statement, StackStatement):
        offset = statement.layout.sumcheck_offset + 31
    else:
        offset = InferenceProof.sumcheck_offset(statement.layout) + 31
    out = bytearray(proof)
    out[offset] ^= 1
    return bytes(out)


def mark_cheat_effective(plan: CheatPlan, request_id: int) -> None:
    """
    Sets ``effective`` on ``request_id``'s record in the plan and in its record file (rewritten
    atomically), now that the proof path carried the cheat out.
    """
    with plan._lock:
        record = plan._records.get(request_id)
        if record is None or record.effective:
            return
        plan._records[request_id] = dataclasses.replace(record, effective=True)
        path = plan.record_path
        if path is None or not path.is_file():
            return
        lines = []
        for line in path.read_text().splitlines():
            if line.strip():
                data = json.loads(line)
                if int(data["request_id"]) == request_id:
                    data["effective"] = True
                    line = json.dumps(data)
            lines.append(line)
        tmp = path.with_suffix(".effective.tmp")
        tmp.write_text("".join(f"{line}\n" for line in lines))
        os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------
# Answering on-chain
# --------------------------------------------------------------------------------------------------


class ProofResponder:
    """
    Answers this node's open proof demands, one at a time on a worker thread.

    Parameters
    ----------
    store, chain, runtime :
        The node's parts.
    metrics :
        Where ``opzk_node_proof_seconds`` is registered and gas is counted.
    setup :
        The proof system's setup; loaded (and checked) on the worker when first needed.
    """

    def __init__(
        self,
        store: Store,
        chain: NodeChain,
        runtime: ModelRuntime,
        *,
        metrics: NodeMetrics | None = None,
        setup: Setup | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.runtime = runtime
        self.metrics = metrics
        self.commitments = CommitmentCache()
        self._setup = setup
        self._setup_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._seconds: Histogram | None = None
        if metrics is not None:
            self._seconds = Histogram(
                "opzk_node_proof_seconds",
                "Seconds to prove one demanded sensitive partition.",
                buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
                registry=metrics.registry,
            )

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Starts the worker and warms it up: the setup, and a check of every sidecar."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="prover")
                self._executor.submit(self._warm_up)

    def close(self) -> None:
        """Stops the worker after the job it is running (queued demands wait for a restart)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _warm_up(self) -> None:
        sensitive = [s for s in self.runtime.models.values() if _has_sensitive(s)]
        if not sensitive:
            return
        for served in sensitive:
            try:
                self.commitments.get(served)
            except SidecarError as error:
                log.error("proof demands on model 0x%s cannot be answered: %s",
                          served.model_id.hex(), error)  # fmt: skip
        try:
            self.setup()
        except SumKzgError as error:
            log.error("no proof demand can be answered: %s", error)

    def setup(self) -> Setup:
        """The proof system's setup (loaded once)."""
        with self._setup_lock:
            if self._setup is None:
                self._setup = load_setup()
            return self._setup

    # ---- the chain job's hook -----------------------------------------------------------------

    def poll(self) -> list[int]:
        """Hands every pending demand not already in hand to the worker; returns their ids."""
        started: list[int] = []
        with self._lock:
            executor = self._executor
            if executor is None:
                return started
            for demand in self.store.proof_demands(*PROOF_PENDING):
                if demand.demand_id in self._in_flight:
                    continue
                self._in_flight.add(demand.demand_id)
                executor.submit(self._run, demand.demand_id)
                started.append(demand.demand_id)
        return started

    def _run(self, demand_id: int) -> ProofStatus | None:
        try:
            return self.answer(demand_id)
        except Exception as exc:
            log.warning("proof demand %d: %s: %s (will retry)", demand_id, type(exc).__name__, exc)
            if self.metrics is not None:
                self.metrics.chain_errors.labels("prover").inc()
            return None
        finally:
            with self._lock:
                self._in_flight.discard(demand_id)

    # ---- answering one demand -----------------------------------------------------------------

    def answer(self, demand_id: int) -> ProofStatus:
        """
        Answers demand ``demand_id`` if it is still pending; returns its status afterwards.

        Transient failures (the chain unreachable) raise, and the demand stays pending.
        """
        demand = self.store.proof_demand(demand_id)
        if demand is None:
            raise ProofJobError(f"proof demand {demand_id} is not recorded")
        if demand.status not in PROOF_PENDING:
            return demand.status
        if demand.status is ProofStatus.SENDING and demand.tx_hash is not None:
            with self.chain.lock:
                if self.chain.tx_known(demand.tx_hash):
                    log.info("proof demand %d: awaiting the answer already sent", demand_id)
                    try:
                        return self._record_mined(demand, self.chain.wait(demand.tx_hash))
                    except TransactionFailedError as exc:
                        # Mined but reverted: the chain's status decides (below), else re-send.
                        log.warning("proof demand %d: %s", demand_id, exc)
        closed = self._closed_on_chain(demand)
        if closed is not None:
            return closed
        if self._too_late(demand):
            return self._set(demand, ProofStatus.MISSED, "the deadline passed before an answer")
        cheat = self._cheat(demand)
        if cheat is CheatMode.REFUSED_PROOF:
            log.warning("CHEAT: not answering proof demand %d (request %s)",
                        demand_id, demand.request_id)  # fmt: skip
            assert self.runtime.cheats is not None and demand.request_id is not None
            mark_cheat_effective(self.runtime.cheats, demand.request_id)
            return self._set(demand, ProofStatus.REFUSED, "refused (cheat mode)")
        try:
            job = self._job(demand)
            proof, seconds = self._proof(demand, job, cheat)
        except ProofJobError as error:
            log.error("proof demand %d cannot be answered: %s", demand_id, error)
            return self._set(demand, ProofStatus.UNANSWERABLE, str(error))
        if self._too_late(demand):
            return self._set(demand, ProofStatus.MISSED, "the deadline passed while proving")
        return self._send(demand, job, proof, seconds, cheat)

    def _proof(
        self, demand: ProofDemandRecord, job: ProofJob, cheat: CheatMode | None
    ) -> tuple[bytes, float | None]:
        """The proof to send and its proving time: the one already sent, or a new one."""
        if demand.proof is not None:  # re-sending after a restart: never prove twice
            return demand.proof, demand.prove_seconds
        started = time.perf_counter()
        proof = prove_job(self.setup(), job)
        seconds = time.perf_counter() - started
        if self._seconds is not None:
            self._seconds.observe(seconds)
        log.info("proof demand %d: proved partition %d in %.2f s",
                 demand.demand_id, demand.partition_index, seconds)  # fmt: skip
        if cheat is CheatMode.INVALID_PROOF:
            log.warning("CHEAT: sending an invalid proof for demand %d", demand.demand_id)
            proof = corrupt_proof(proof, job.statement)
        return proof, seconds

    def _send(
        self,
        demand: ProofDemandRecord,
        job: ProofJob,
        proof: bytes,
        seconds: float | None,
        cheat: CheatMode | None,
    ) -> ProofStatus:
        """Sign → record → broadcast → wait ``submitProof``; the outcome from its receipt."""
        demand_id = demand.demand_id
        call = self.chain.market.proofs.functions.submitProof(demand_id, job.io, proof)
        with self.chain.lock:
            try:
                signed = self.chain.sign(call)
            except (errors.DemandNotOpen, errors.DeadlinePassed) as exc:
                log.warning("proof demand %d closed before the answer: %s", demand_id, exc)
                return self._closed_on_chain(demand) or self._set(
                    demand, ProofStatus.MISSED, "the deadline passed before the answer"
                )
            except (errors.InvalidTraceProof, errors.NotClaimNode) as exc:
                log.error("proof demand %d: the chain refuses the answer: %s", demand_id, exc)
                return self._set(demand, ProofStatus.UNANSWERABLE, f"refused on-chain: {exc}")
            self.store.set_proof_status(
                demand_id,
                ProofStatus.SENDING,
                only_from=PROOF_PENDING,
                tx_hash=signed.tx_hash,
                proof=proof,
                prove_seconds=seconds,
            )
            self.chain.broadcast(signed)
            receipt = self.chain.wait(signed.tx_hash)
        if cheat is CheatMode.INVALID_PROOF:
            assert self.runtime.cheats is not None
            mark_cheat_effective(self.runtime.cheats, job.request_id)
        return self._record_mined(demand, receipt)

    def _job(self, demand: ProofDemandRecord) -> ProofJob:
        """:func:`build_job` with the partition's verifier as registered on-chain."""
        served_id = _model_of(self.store, demand)
        spec, verifier = self.chain.client.call(
            self.chain.market.registry.functions.partition(served_id, demand.partition_index)
        )
        job = build_job(
            demand,
            store=self.store,
            runtime=self.runtime,
            commitments=self.commitments,
            chain_id=self.chain.client.chain_id,
            verifier=str(verifier),
        )
        if bytes(spec[3]) != commitment_hash(job.commitment):
            raise ProofJobError(
                f"the registry holds weight commitment 0x{bytes(spec[3]).hex()} for partition "
                f"{demand.partition_index}, the sidecar 0x{commitment_hash(job.commitment).hex()}"
            )
        return job

    def _cheat(self, demand: ProofDemandRecord) -> CheatMode | None:
        cheats = self.runtime.cheats
        if cheats is None or demand.source != CLAIM_SOURCE_BATCH or demand.request_id is None:
            return None
        return cheats.proof_action(demand.request_id)

    def _too_late(self, demand: ProofDemandRecord) -> bool:
        """Whether ``submitProof`` can no longer be mined by the deadline."""
        _, now = self.chain.head()
        return now >= demand.deadline

    def _closed_on_chain(self, demand: ProofDemandRecord) -> ProofStatus | None:
        """The demand's final status if the chain has closed it (recorded), else ``None``."""
        fields = self.chain.client.call(
            self.chain.market.proofs.functions.getDemand(demand.demand_id)
        )
        status = int(fields[4])
        if status == _STATUS_OPEN:
            return None
        final = _CHAIN_STATUS.get(status, ProofStatus.UNANSWERABLE)
        self.store.set_proof_status(demand.demand_id, final, only_from=PROOF_PENDING)
        return final

    def _record_mined(self, demand: ProofDemandRecord, receipt: TxReceipt) -> ProofStatus:
        """The outcome and gas of a mined ``submitProof``."""
        proofs = self.chain.market.proofs
        gas = int(receipt["gasUsed"])
        accepted = proofs.events.ProofAccepted().process_receipt(receipt, errors=DISCARD)
        status = ProofStatus.ACCEPTED if accepted else ProofStatus.REJECTED
        self.store.set_proof_status(demand.demand_id, status, gas_used=gas)
        if self.metrics is not None:
            self.metrics.gas_used.labels("submitProof").inc(gas)
        recorded = self.store.proof_demand(demand.demand_id)
        seconds = recorded.prove_seconds if recorded is not None else None
        log.info("proof demand %d answered: %s (proved in %s s, submitProof %d gas)",
                 demand.demand_id, status.value,
                 "?" if seconds is None else f"{seconds:.2f}", gas)  # fmt: skip
        return status

    def _set(self, demand: ProofDemandRecord, status: ProofStatus, detail: str) -> ProofStatus:
        self.store.set_proof_status(
            demand.demand_id, status, only_from=PROOF_PENDING, detail=detail
        )
        recorded = self.store.proof_demand(demand.demand_id)
        return recorded.status if recorded is not None else status


def _has_sensitive(served: ServedModel) -> bool:
    return any(p.sensitive for p in served.model.partitions)


def _model_of(store: Store, demand: ProofDemandRecord) -> bytes:
    """The model id of the demanded claim (:class:`ProofJobError` if it is not stored)."""
    if demand.request_id is not None and demand.source == CLAIM_SOURCE_BATCH:
        receipt = store.receipt(demand.request_id)
        if receipt is not None:
            return receipt.model_id
    if demand.request_id is not None and demand.source == CLAIM_SOURCE_REQUEST:
        request = store.onchain_request(demand.request_id)
        if request is not None:
            return request.model_id
    raise ProofJobError(f"demand {demand.demand_id} names a claim this node has no record of")
