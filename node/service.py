"""
The node, wired: settings → chain → models → store → pipeline → jobs → HTTP app.

Introduction
------------
:meth:`NodeService.build` connects and checks everything a node needs before it may serve (the
chain and deployment, the key, the models, the database and that it belongs to this chain,
deployment and account). :meth:`NodeService.check_stake` refuses to go on below the minimum stake,
naming the command that deposits it: the node never stakes by itself. The app's startup starts the
receipt writer and the background jobs (batcher, watcher, on-chain requests
(:mod:`node.onchain`), responder, proof responder, finalizer) and the prover's worker thread
(:mod:`node.prover`: proofs are made there, off the request path and off the chain job); its
shutdown stops the jobs and the prover, then commits whatever receipts are still queued.
:func:`run_node` serves it with uvicorn, which shuts down cleanly on SIGTERM and SIGINT.
"""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from fastapi import FastAPI

from protocol.errors import OpzkError

from .api.deps import ApiContext
from .app import create_app
from .batcher import Batcher
from .chainio import NodeChain, connect_node, identity_of
from .cheats import CheatPlan
from .finalizer import finalize_due
from .health import ChainHealth
from .metrics import NodeMetrics
from .onchain import OnchainRequests, ensure_serving
from .pipeline import InferencePipeline
from .proofs import BatchProofs
from .prover import ProofResponder
from .responder import answer_challenges
from .runtime import ModelRuntime
from .scheduler import NodeScheduler
from .settings import NodeSettings
from .store import Store
from .watcher import Watcher
from .writer import ReceiptWriter

log = logging.getLogger(__name__)

WEI_PER_ETH = 10**18


class NodeStakeError(OpzkError):
    """The node's active stake is below the deployment's minimum."""


def format_eth(wei: int) -> str:
    """``wei`` as ETH without trailing zeros."""
    whole, frac = divmod(wei, WEI_PER_ETH)
    return f"{whole}.{frac:018d}".rstrip("0").rstrip(".")


@dataclass
class NodeService:
    """Every part of a running node."""

    settings: NodeSettings
    chain: NodeChain
    runtime: ModelRuntime
    store: Store
    metrics: NodeMetrics
    writer: ReceiptWriter
    pipeline: InferencePipeline
    batcher: Batcher
    watcher: Watcher
    scheduler: NodeScheduler
    onchain: OnchainRequests
    prover: ProofResponder
    app: FastAPI = field(init=False)

    @classmethod
    def build(cls, settings: NodeSettings) -> NodeService:
        """Connects, loads and checks; raises a one-line :class:`OpzkError` on any problem."""
        chain = connect_node(settings.rpc_url, settings.key_hex, settings.deployments)
        runtime = ModelRuntime.load(
            settings.models,
            backend=settings.runtime,
            device=settings.device,
            threads=settings.torch_threads,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(
            settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous
        )
        store.bind_identity(identity_of(chain))
        metrics = NodeMetrics(store)
        runtime.cheats = CheatPlan.from_settings(
            settings, chain.chain_id(), last_request_id=store.last_request_id(), metrics=metrics
        )
        batcher = Batcher(store, chain, max_batch_size=settings.max_batch_size, metrics=metrics)
        writer = ReceiptWriter(store, on_committed=batcher.notify_committed)
        pipeline = InferencePipeline(
            runtime,
            writer,
            node_address=chain.address,
            first_request_id=store.last_request_id() + 1,
            max_batch=settings.max_inference_batch,
            metrics=metrics,
        )
        scheduler = NodeScheduler(metrics)
        watcher = Watcher(
            store,
            chain,
            confirmations=settings.confirmations,
            chunk_blocks=settings.log_chunk_blocks,
            metrics=metrics,
        )
        batcher.trigger = lambda: scheduler.kick("batcher")
        service = cls(
            settings=settings,
            chain=chain,
            runtime=runtime,
            store=store,
            metrics=metrics,
            writer=writer,
            pipeline=pipeline,
            batcher=batcher,
            watcher=watcher,
            scheduler=scheduler,
            onchain=OnchainRequests(
                store, chain, runtime, max_per_tx=settings.max_batch_size, metrics=metrics
            ),
            prover=ProofResponder(store, chain, runtime, metrics=metrics),
        )
        context = ApiContext(
            store=store,
            runtime=runtime,
            pipeline=pipeline,
            proofs=BatchProofs(store),
            health=ChainHealth(chain, runtime),
            metrics=metrics,
            node_address=chain.address,
        )
        service.app = create_app(
            context,
            max_body_bytes=settings.max_body_bytes,
            on_startup=service.start_background,
            on_shutdown=service.stop_background,
        )
        return service

    def check_stake(self, config_hint: str = "--config FILE") -> int:
        """The active stake; :class:`NodeStakeError` if below the minimum."""
        active = self.chain.active_stake()
        minimum = self.chain.params.min_node_stake
        if active < minimum:
            raise NodeStakeError(
                f"node {self.chain.address} has {format_eth(active)} ETH of active stake, below "
                f"the minimum {format_eth(minimum)} ETH; deposit it with "
                f"`opzk node stake --amount {format_eth(minimum - active)} {config_hint}`"
            )
        return active

    def unregistered_models(self) -> list[bytes]:
        """Served models the registry does not know."""
        return [m for m in self.runtime.models if not self.chain.is_registered(m)]

    def ensure_serving(self) -> list[bytes]:
        """``serveModel`` for each served model not yet served on-chain (idempotent)."""
        return ensure_serving(self.chain, list(self.runtime.models))

    def follow_chain(self) -> None:
        """
        One round of the chain job: watcher, on-chain requests, responder, proof responder (which
        hands open proof demands to its worker), finalizer.
        """
        s = self.settings
        steps: list[tuple[str, Callable[[], object]]] = [("watcher", self.watcher.poll_once)]
        if s.serve_onchain:
            steps.append(("onchain", self.onchain.fulfil_once))
        if s.respond_to_challenges:
            steps.append(
                (
                    "responder",
                    lambda: answer_challenges(self.store, self.chain, self.runtime, self.metrics),
                )
            )
            steps.append(("prover", self.prover.poll))
        if s.finalize_batches:
            steps.append(("finalizer", lambda: finalize_due(self.store, self.chain, self.metrics)))
            if s.serve_onchain:
                steps.append(("request finalizer", self.onchain.finalize_due))
        for name, step in steps:
            try:
                step()
            except Exception as exc:
                log.warning("%s failed (will retry): %s: %s", name, type(exc).__name__, exc)
                self.metrics.chain_errors.labels(name).inc()

    def start_background(self) -> None:
        """Starts the receipt writer and the jobs (the app's startup)."""
        s = self.settings
        self.writer.start()
        self.prover.start()
        self.batcher.reset_pending()
        self.scheduler.add("batcher", self.batcher.run_once, s.batch_interval)
        self.scheduler.add("chain", self.follow_chain, s.poll_interval)
        self.scheduler.start()
        # Everything loaded so far (torch, web3, the models) lives as long as the process: move it
        # out of the collector's sight, so full collections stay short and do not stall requests.
        gc.collect()
        gc.freeze()
        log.info(
            "node %s serving %s; batches every %gs or %d receipts",
            self.chain.address,
            ", ".join("0x" + m.hex() for m in self.runtime.models),
            s.batch_interval,
            s.max_batch_size,
        )

    def stop_background(self) -> None:
        """Stops the jobs, then commits the receipts still queued (the app's shutdown)."""
        self.scheduler.shutdown()
        self.prover.close()
        self.writer.stop()
        log.info("node stopped; %d receipts wait for the next batch", self.store.count_unbatched())


class _TerminatedError(Exception):
    """SIGTERM arrived (raised once uvicorn has shut the node down)."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _TerminatedError


def run_node(service: NodeService) -> None:
    """
    Serves the node with uvicorn until SIGTERM/SIGINT. Uvicorn shuts down gracefully (the app's
    shutdown stops the jobs and commits queued receipts) and then re-raises the signal; SIGTERM
    then ends here, so the process exits with status 0, and SIGINT as ``KeyboardInterrupt``.
    """
    import uvicorn

    s = service.settings
    config = uvicorn.Config(
        service.app,
        host=s.host,
        port=s.port,
        log_level=s.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        uvicorn.Server(config).run()
    except _TerminatedError:
        log.info("stopped by SIGTERM")
    finally:
        signal.signal(signal.SIGTERM, previous)
