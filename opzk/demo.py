"""
``opzk demo``: the marketplace end to end with the real node and the real challenger.

What it does, in about a minute and a half on two CPU cores:

1. starts Anvil (1-second blocks, and every transaction mined at once) and deploys every
   contract with the ``local`` preset's amounts and shorter windows (:data:`DEMO_WINDOWS`), after
   checking the Proof-of-Sampling condition for them (at ``p`` and at ``p_zk``);
2. makes layers 1 and 2 of the quantized digits model (64→64→32→10, ``models/digits``; 64→64
   relu and 64→32 relu) one two-layer **sensitive partition** whose intermediate activation stays
   hidden (:func:`models.sensitive.make_sensitive_stack`: hiding KZG commitments to the stack's two
   matrices ``P`` and ``V``, docs/proof-system-stack.md, whose secret blinding goes to the node's
   commitment sidecar), proves both matrices well-formed to the deployment's ``SumKzgVerifier``
   (checked on-chain), records the stack with ``SumKzgStackVerifier`` and registers the model with
   it, and stakes the node's account (Anvil account 1) with enough to pay every slash and stay
   above the minimum. The node gets the model file and its sidecar; the challenger gets a copy
   with both private layers' weights zeroed (:func:`public_copy`): it re-executes layer 3 only;
3. starts the inference node (``python -m node run``) **in cheat mode** — it lies on 5% of its
   requests (wrong output, wrong intermediate layer, trace endpoints that do not match the
   receipt, withheld trace, and on the proof path a refused or an invalid proof; see
   :mod:`node.cheats`) and records each lie in ``<data dir>/cheats.jsonl`` — and a challenger
   (``python -m opzk.cli challenger run``) that re-executes every claim's public layers
   (``p = 1``, so every public lie must be caught; PoSP needs much less) and demands a proof of
   the private partition for a share ``p_zk`` of the claims (default 5%);
4. sends ~200 images of the digits test split to the node's HTTP API (a few at a time), and a
   handful of on-chain requests with fees in escrow;
5. follows the chain until every batch and on-chain request is final, printing progress; the
   challenger meanwhile proves each wrong layer or endpoint in one transaction, answers each
   withheld trace with a data-availability challenge that slashes the node when it times out,
   and posts a bond for each proof demand, which the node answers with one SumKZG stack proof of
   both private layers (:func:`sumkzg.stack.prove_stack`), checked on-chain by
   ``SumKzgStackVerifier`` (the bond goes to the node; a refused or invalid proof slashes it);
6. prints tables, and as its last line a JSON object: ``requests``, ``committed``,
   ``frauds_injected`` (the node's record), ``frauds_sampled`` (the challenger's state),
   ``frauds_slashed`` and ``honest_slashed`` (``ClaimSlashed`` events on-chain against the record),
   ``gas_per_inference`` (commit and fulfil gas per committed inference), ``seconds``, then
   ``proofs_demanded`` / ``proofs_accepted`` / ``proofs_rejected`` / ``proofs_timed_out``
   (``ProofDemandGame`` events), ``proof_verify_gas`` (mean gas of an accepted ``submitProof``,
   verification included) and ``prove_s`` (the node's mean proving time, from its
   ``opzk_node_proof_seconds`` metric).

A lie on the proof path only takes effect when its claim is demanded (otherwise the node answered
honestly and its claim is correct), so the record counts it only then.

Every process it starts (Anvil, node, challenger) is stopped when it ends, also on Ctrl-C,
SIGTERM or an error. Logs and configs live in a temporary directory, kept (and named) with
``--keep`` or when the demo fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import numpy.typing as npt
from hexbytes import HexBytes
from web3 import Web3

from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode, free_port
from deploy.deployer import Preset, deploy_marketplace, load_preset
from deploy.paths import repo_root
from protocol.economics import DEFAULT_COLLUDING_SHARE, check_posp, default_cheat_gain
from protocol.errors import OpzkError
from protocol.model import QuantizedModel
from protocol.params import MarketParams, validate_params
from protocol.receipts import CLAIM_SOURCE_BATCH, CLAIM_SOURCE_REQUEST, claim_key

from .chain import connect
from .demo_report import Progress, modes_table, progress_line, summary_json, table
from .marketplace import Marketplace

ETH = 10**18

DEMO_WINDOWS = {
    "challenge_window": 60,
    "data_response_window": 20,
    "proof_response_window": 20,
    "request_timeout": 40,
    "withdrawal_delay": 100,
}
"""The ``local`` preset's windows (seconds) shortened so that a whole run takes about a minute and a
half: a claim is final 60 s after its commit (the challenger needs ~10 s of it), a withheld vector
is slashed 20 s after its challenge."""

PUBLIC_CHEAT_MODES = ("wrong_output", "wrong_layer", "bad_endpoint", "withheld_trace")
PROOF_CHEAT_MODES = ("refused_proof", "invalid_proof")
"""Lies on the proof path: effective only on a claim the challenger demands a proof of."""
PRIVATE_LAYERS = (1, 2)
"""The digits layers made private together (64→64 relu, 64→32 relu): one two-layer sensitive
partition (index 0) proven by SumKZG-ML v2-stack; the activation between them is hidden."""
DEFAULT_P_ZK = 0.05
"""The challenger's proof-demand probability: about ten demands over ~200 claims."""
DEFAULT_SEED = 6
"""Seed of the node's lies: over the first 200 requests at 5% it draws 11 public lies of all
four kinds and 2 on the proof path (the modes are drawn equally often: some seeds leave one out)."""
NODE_KEY_INDEX, CHALLENGER_KEY_INDEX, CLIENT_KEY_INDEX = 1, 2, 3
STOP_GRACE = 15.0
"""Seconds a child gets to stop after SIGTERM before it is killed."""


class DemoError(OpzkError):
    """The demo could not run to the end (the message says where it stopped)."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the marketplace end to end: real node (cheating 5%%), real challenger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--requests", type=int, default=200, help="HTTP requests (default 200)")
    p.add_argument("--onchain-requests", type=int, default=4, help="on-chain requests (default 4)")
    p.add_argument(
        "--cheat-rate", type=float, default=0.05, help="share of lies of the node (default 0.05)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the node's lies (default {DEFAULT_SEED})",
    )
    p.add_argument(
        "--sampling-probability",
        type=float,
        default=1.0,
        help="the challenger's p (default 1: every claim re-executed, every lie caught)",
    )
    p.add_argument(
        "--p-zk",
        type=float,
        default=DEFAULT_P_ZK,
        help=f"the challenger's proof-demand probability p_zk (default {DEFAULT_P_ZK:g})",
    )
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    p.add_argument(
        "--timeout",
        type=float,
        default=150.0,
        help="seconds to wait for every claim to be final (default 150)",
    )
    p.add_argument("--keep", action="store_true", help="keep the logs and configs directory")
    p.set_defaults(run=run)


# ---- the parameters ------------------------------------------------------------------------------


def demo_params(p: float, r: float = DEFAULT_COLLUDING_SHARE) -> tuple[MarketParams, str]:
    """
    The ``local`` preset with :data:`DEMO_WINDOWS`, and the PoSP verdict for ``p``.

    Raises :class:`DemoError` if the parameters are invalid or break ``p·(1−r)·(R+S) > C``.
    """
    params = replace(load_preset("local").params, **DEMO_WINDOWS)
    validate_params(params)
    check = check_posp(params, p, r, default_cheat_gain(params))
    if not check.ok:
        raise DemoError(f"--sampling-probability {p}: {check.message}")
    return params, check.message


def zk_verdict(params: MarketParams, p_zk: float, r: float = DEFAULT_COLLUDING_SHARE) -> str:
    """
    Why the challenger demands proofs at ``p_zk`` rather than at ``p``, and the PoSP check at
    ``p_zk``.

    A lie inside a private layer is caught only by a proof demand (re-execution cannot compute
    the layer), so the condition ``p_zk·(1−r)·(R+S) > C`` must hold on its own; it holds far
    below ``p``. A demand is dearer than a re-execution: it locks the proof bond, which an honest
    node earns for proving, while re-executing a public layer costs the challenger CPU only.

    Parameters
    ----------
    params :
        The demo's market parameters.
    p_zk :
        The proof-demand probability, in ``(0, 1]``.
    r :
        The colluding share of challengers assumed.

    Returns
    -------
    verdict : str
        One line for the demo's output.

    Raises
    ------
    DemoError
        If ``p_zk`` is outside ``(0, 1]`` or breaks the condition.
    """
    if not 0 < p_zk <= 1:
        raise DemoError(f"--p-zk must be in (0, 1], not {p_zk}")
    check = check_posp(params, p_zk, r, default_cheat_gain(params))
    if not check.ok:
        raise DemoError(f"--p-zk {p_zk}: {check.message}")
    return (
        f"proof demands at p_zk = {p_zk:g}, below p: each demand of an honest claim costs the "
        f"challenger the {params.proof_bond / ETH:g} ETH proof bond (paid to the node for proving) "
        "where a re-execution costs it CPU only, and a lie in the private partition still costs "
        f"the node {float(check.expected_loss) / ETH:.3g} ETH in expectation against a gain of "
        f"{check.cheat_gain / ETH:g} ETH (PoSP holds at p_zk)"
    )


def public_copy(model: QuantizedModel) -> QuantizedModel:
    """
    ``model`` as a challenger may hold it: every sensitive layer's weights and biases zeroed.

    The model id does not change (it covers a sensitive layer's header and weight commitment, not
    its weights), so a challenger loads this copy and re-executes the public layers only.

    Parameters
    ----------
    model :
        A model, possibly with sensitive partitions.

    Returns
    -------
    model : `QuantizedModel`
        The same model without the private weights.
    """
    layers = tuple(
        replace(layer, weights=np.zeros_like(layer.weights), biases=np.zeros_like(layer.biases))
        if model.is_sensitive_layer(index)
        else layer
        for index, layer in enumerate(model.layers, start=1)
    )
    public = replace(model, layers=layers)
    if public.model_id() != model.model_id():  # the model id must not cover private weights
        raise DemoError("zeroing the private weights changed the model id")
    return public


# ---- child processes -----------------------------------------------------------------------------


@dataclass
class Child:
    """A service the demo started, in its own process group, logging to a file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    stopped: bool = False

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after :data:`STOP_GRACE` seconds; reaped. Idempotent."""
        if self.stopped:
            return
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_GRACE)
        # Whatever the group still holds (the leader, or anything it started) is killed.
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.stopped = True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def start_child(name: str, command: Sequence[str], log: Path) -> Child:
    """Starts ``command`` from the repository root in a new session, output to ``log``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=repo_root(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    return Child(name, process, log)


def _toml(values: Mapping[str, object]) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return json.dumps(str(v))

    return "".join(f"{k} = {fmt(v)}\n" for k, v in values.items())


# ---- the chain, as the demo follows it -----------------------------------------------------------

FOLLOWED = {
    "InferenceMarket": (
        "BatchCommitted", "BatchFinalized", "InferenceRequested", "RequestFulfilled",
        "RequestFinalized", "RequestRefunded", "DisputeOpened", "DisputeClosed", "ClaimSlashed",
    ),
    "DataAvailabilityGame": ("DataChallenged", "DataPublished", "DataChallengeTimedOut"),
    "FraudProofGame": ("FraudProven",),
    "ProofDemandGame": ("ProofDemanded", "ProofAccepted", "ProofRejected", "ProofDemandTimedOut"),
    "StakeManager": ("Slashed",),
}  # fmt: skip


@dataclass
class ChainView:
    """What happened on-chain since the deployment, read incrementally from the logs."""

    w3: Web3
    contracts: Mapping[str, Any]
    cursor: int
    events: list[tuple[str, dict[str, Any], bytes]] = field(default_factory=list)
    """``(event name, args, transaction hash)`` in chain order."""

    def __post_init__(self) -> None:
        self._by_topic: dict[tuple[str, bytes], tuple[str, Any]] = {}
        for cname, names in FOLLOWED.items():
            contract = self.contracts[cname]
            for name in names:
                event = getattr(contract.events, name)()
                topic = Web3.to_bytes(hexstr=event.topic)
                self._by_topic[(contract.address.lower(), topic)] = (name, event)
        self._addresses = [self.contracts[c].address for c in FOLLOWED]

    def poll(self) -> None:
        """Reads the events of the blocks mined since the last poll."""
        head = int(self.w3.eth.block_number)
        if head < self.cursor:
            return
        logs = self.w3.eth.get_logs(
            {"address": self._addresses, "fromBlock": self.cursor, "toBlock": head}
        )
        for entry in logs:
            if not entry["topics"]:
                continue
            found = self._by_topic.get((str(entry["address"]).lower(), bytes(entry["topics"][0])))
            if found is None:
                continue
            name, event = found
            args = dict(event.process_log(entry)["args"])
            self.events.append((name, args, bytes(entry["transactionHash"])))
        self.cursor = head + 1

    def of(self, name: str) -> list[dict[str, Any]]:
        """The arguments of every ``name`` event so far."""
        return [args for n, args, _ in self.events if n == name]

    def txs_of(self, name: str) -> set[bytes]:
        """The transactions that emitted ``name``."""
        return {tx for n, _, tx in self.events if n == name}

    def snapshot(self, node: str) -> dict[str, int]:
        """Counts of what the demo waits for."""
        node = node.lower()
        batches = {
            int(a["batchId"]): int(a["count"])
            for a in self.of("BatchCommitted")
            if str(a["node"]).lower() == node
        }
        final = {int(a["batchId"]) for a in self.of("BatchFinalized")} & set(batches)
        requested = {int(a["requestId"]) for a in self.of("InferenceRequested")}
        done = {int(a["requestId"]) for a in self.of("RequestFinalized")}
        done |= {int(a["requestId"]) for a in self.of("RequestRefunded")}
        return {
            "batches": len(batches),
            "batches_final": len(final),
            "committed": sum(batches.values()),
            "onchain_requested": len(requested),
            "onchain_fulfilled": len({int(a["requestId"]) for a in self.of("RequestFulfilled")}),
            "onchain_done": len(done & requested),
            "slashed": len(self.of("ClaimSlashed")),
            "open_disputes": len(self.of("DisputeOpened")) - len(self.of("DisputeClosed")),
            "data_challenges": len(self.of("DataChallenged")),
            "proofs_demanded": len(self.of("ProofDemanded")),
            "proofs_answered": sum(
                len(self.of(name))
                for name in ("ProofAccepted", "ProofRejected", "ProofDemandTimedOut")
            ),
        }


# ---- HTTP ----------------------------------------------------------------------------------------


def http_json(url: str, body: Mapping[str, Any] | None = None, timeout: float = 30.0) -> Any:
    """GET (or POST ``body`` as JSON) ``url``; the decoded JSON answer. Raises on non-2xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_healthy(url: str, children: Sequence[Child], timeout: float) -> None:
    """Waits for ``GET /healthz`` to answer 200 while every child stays alive."""
    deadline = time.monotonic() + timeout
    while True:
        for child in children:
            if not child.alive():
                raise DemoError(
                    f"the {child.name} exited with code {child.process.returncode}:\n"
                    f"{child.log_tail()}"
                )
        try:
            http_json(f"{url}/healthz", timeout=2.0)
            return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"the node did not become healthy within {timeout:g} s")
        time.sleep(0.25)


def all_receipts(url: str) -> list[dict[str, Any]]:
    """Every receipt summary of ``GET /v1/receipts``, page by page."""
    out: list[dict[str, Any]] = []
    cursor: int | None = None
    while True:
        query = f"{url}/v1/receipts?limit=100" + (f"&cursor={cursor}" if cursor is not None else "")
        page = http_json(query)
        out.extend(page["data"])
        cursor = page.get("next_cursor")
        if cursor is None:
            return out


# ---- the run -------------------------------------------------------------------------------------


def digits_test_split(count: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The first ``count`` images (floats in [0, 1]) and labels of the digits test split."""
    from models.digits.train import load_split

    split = load_split()
    if count > len(split.x_heldout):
        raise DemoError(f"--requests {count}: the test split has {len(split.x_heldout)} images")
    return split.x_heldout[:count], split.y_heldout[:count]


def _say(text: str) -> None:
    print(f"==> {text}", flush=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turns SIGTERM into ``KeyboardInterrupt`` (main thread only), so cleanup runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)
    else:
        yield


def run(args: argparse.Namespace) -> int:
    """Runs the demo; 0 when every sampled lie was slashed and no honest claim was."""
    if args.requests < 1 or args.onchain_requests < 0 or args.concurrency < 1:
        raise DemoError("--requests and --concurrency must be positive, --onchain-requests >= 0")
    if not 0 <= args.cheat_rate <= 1:
        raise DemoError(f"--cheat-rate must be in [0, 1], not {args.cheat_rate}")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="opzk-demo-"))
    children: list[Child] = []
    succeeded = False
    try:
        with _sigterm_as_interrupt(), AnvilNode(block_time=1, extra_args=["--mixed-mining"]) as a:
            try:
                code = _run(args, a, workdir, children, started)
            finally:
                for child in reversed(children):
                    child.stop()
        succeeded = code == 0
        return code
    finally:
        for child in children:
            child.stop()
        if succeeded and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs and configs kept in {workdir}", file=sys.stderr)


def _run(
    args: argparse.Namespace,
    anvil: AnvilNode,
    workdir: Path,
    children: list[Child],
    started: float,
) -> int:
    p = float(args.sampling_probability)
    params, posp = demo_params(p)
    zk = zk_verdict(params, float(args.p_zk))
    _say(f"Anvil at {anvil.rpc_url} (chain id {anvil.chain_id}, 1-s blocks, automine)")
    keys = ANVIL_DEFAULT_KEYS
    deployment = deploy_marketplace(
        connect(anvil.rpc_url, keys[0]),
        Preset("demo", "local amounts, short windows", params),
    )
    deployments = workdir / "deployments.json"
    deployment.save(deployments)
    _say(
        f"deployed the marketplace: challenge window {params.challenge_window} s, data response "
        f"window {params.data_response_window} s, slash {params.slash_amount / ETH:g} ETH"
    )
    _say(posp)

    node = Marketplace(deployment, connect(anvil.rpc_url, keys[NODE_KEY_INDEX]))
    model, private_path, public_path, registered = _private_digits(node, workdir)
    model_id = bytes(model.model_id())
    expected_lies = args.requests * args.cheat_rate
    stake = params.min_node_stake + params.slash_amount * math.ceil(3 * expected_lies + 10)
    node.stake(stake)
    first, last = PRIVATE_LAYERS
    _say(
        f"made layers {first}-{last} of the digits model ({_shape(model, first)}; "
        f"{_shape(model, last)}) one private two-layer partition: their weights are committed as "
        f"the stack's matrices P and V (KZG, hiding), both well-formedness proofs were checked "
        f"on-chain by SumKzgVerifier and the stack recorded by SumKzgStackVerifier ({registered:,} "
        f"gas), and model 0x{model_id.hex()[:16]}… is registered with SumKzgStackVerifier as the "
        "partition's verifier; the node keeps the private weights and the commitments' secrets "
        "(sidecar, mode 0600), the challenger gets the public layer only (h_1 is never revealed)"
    )
    _say(f"staked {stake / ETH:g} ETH for node {node.address}")

    node_url, node_data = _start_node(args, anvil, workdir, deployments, private_path, children)
    _start_challenger(args, anvil, workdir, deployments, node_url, public_path, children)
    images, labels = digits_test_split(args.requests)
    wait_healthy(node_url, children, timeout=120)
    _say(
        f"node serving at {node_url} (lies on {args.cheat_rate:.0%} of its requests), "
        f"challenger re-executes with p={p:g} and demands proofs with p_zk={args.p_zk:g}"
    )
    _say(zk)

    client = Marketplace(deployment, connect(anvil.rpc_url, keys[CLIENT_KEY_INDEX]))
    view = ChainView(
        client.client.w3,
        {name: client._contract(name) for name in FOLLOWED},
        deployment.start_block,
    )
    fee = params.min_request_fee * 10
    if args.onchain_requests:
        from protocol.quantize import quantize_input

        assert model.input_scale is not None
        onchain_x = quantize_input(images[: args.onchain_requests], model.input_scale)
        for x in onchain_x:
            client.request_inference(model_id, x, fee)
        _say(f"client requested {args.onchain_requests} inferences on-chain, fee {fee / ETH:g} ETH")

    sending = time.monotonic()
    answers = _send_requests(node_url, model_id, images, client.address, args.concurrency)
    sent_in = time.monotonic() - sending
    cheats = _read_cheats(node_data)
    honest = [i for i, a in enumerate(answers) if int(a["request_id"]) not in cheats]
    correct = sum(int(np.argmax(answers[i]["output"])) == int(labels[i]) for i in honest)
    _say(
        f"sent {len(answers)} images of the digits test split over HTTP in {sent_in:.1f} s "
        f"({args.concurrency} at a time); the honest answers classify {correct}/{len(honest)} "
        "correctly"
    )

    _wait_final(view, node.address, len(answers), args, started)
    pids = [c.process.pid for c in children] + ([anvil.pid] if anvil.pid is not None else [])
    return _report(args, view, node, answers, node_url, node_data, children, started, pids)


def _shape(model: QuantizedModel, layer: int) -> str:
    q = model.layers[layer - 1]
    return f"{q.in_dim}→{q.out_dim}, {q.activation.name.lower()}"


def _private_digits(market: Marketplace, workdir: Path) -> tuple[QuantizedModel, Path, Path, int]:
    """
    The digits model with layers :data:`PRIVATE_LAYERS` one private two-layer partition,
    registered by ``market``'s account.

    Writes ``<workdir>/models/digits-private.opzkmodel`` with its commitment sidecar (the node's,
    both mode 0600) and ``digits-public.opzkmodel`` (the challenger's: :func:`public_copy`).

    Returns
    -------
    model, private_path, public_path, gas :
        The model, the two files, and the gas of the two ``registerCommitment`` (the on-chain
        checks of ``P``'s and ``V``'s well-formedness proofs) and of ``recordStack``.
    """
    from models.digits import MODEL_PATH
    from models.sensitive import make_sensitive_stack, register_sensitive_model, write_sidecar
    from models.store import load_model, save_model
    from sumkzg import load_setup

    setup = load_setup()
    model, commitment = make_sensitive_stack(load_model(MODEL_PATH), PRIVATE_LAYERS[0], setup)
    directory = workdir / "models"
    directory.mkdir()
    private_path = directory / "digits-private.opzkmodel"
    write_sidecar(private_path, model, commitment)
    save_model(model, private_path)
    os.chmod(private_path, 0o600)  # it holds the private layers' weights
    public_path = directory / "digits-public.opzkmodel"
    save_model(public_copy(model), public_path)
    done = register_sensitive_model(market, model, commitment, setup=setup)
    sent = [tx for txs in (done.stack_commitment_txs or {}).values() for tx in txs]
    sent += [*(done.record_txs or {}).values(), *done.commitment_txs.values()]
    gas = sum(int(tx["gasUsed"]) for tx in sent)
    return model, private_path, public_path, gas


def _start_node(
    args: argparse.Namespace,
    anvil: AnvilNode,
    workdir: Path,
    deployments: Path,
    model_path: Path,
    children: list[Child],
) -> tuple[str, Path]:
    port = free_port()
    config = workdir / "node.toml"
    config.write_text(
        _toml(
            {
                "rpc_url": anvil.rpc_url,
                "private_key": ANVIL_DEFAULT_KEYS[NODE_KEY_INDEX],
                "deployments": deployments.name,
                "models": [str(model_path)],
                "data_dir": "node-data",
                "sqlite_synchronous": "NORMAL",
                "host": "127.0.0.1",
                "port": port,
                "batch_interval": 2.0,
                "max_batch_size": 64,
                "poll_interval": 0.5,
                "torch_threads": 1,
                "cheat_rate": float(args.cheat_rate),
                "cheat_modes": [*PUBLIC_CHEAT_MODES, *PROOF_CHEAT_MODES],
                "cheat_seed": int(args.seed),
            }
        )
    )
    command = [sys.executable, "-m", "node", "run", "--config", str(config)]
    children.append(start_child("node", command, workdir / "node.log"))
    return f"http://127.0.0.1:{port}", workdir / "node-data"


def _start_challenger(
    args: argparse.Namespace,
    anvil: AnvilNode,
    workdir: Path,
    deployments: Path,
    node_url: str,
    model_path: Path,
    children: list[Child],
) -> None:
    config = workdir / "challenger.toml"
    config.write_text(
        _toml(
            {
                "rpc_url": anvil.rpc_url,
                "private_key": ANVIL_DEFAULT_KEYS[CHALLENGER_KEY_INDEX],
                "deployments": deployments.name,
                "sampling_secret": "0x" + os.urandom(32).hex(),
                "node_urls": [node_url],
                "sampling_probability": float(args.sampling_probability),
                "models": [str(model_path)],
                "proofs_enabled": True,
                "p_zk": float(args.p_zk),
                "state_path": "challenger-state.sqlite",
                "poll_interval": 1.0,
                "device": "cpu",
            }
        )
    )
    command = [sys.executable, "-m", "opzk.cli", "challenger", "run", "--config", str(config)]
    children.append(start_child("challenger", command, workdir / "challenger.log"))


def _send_requests(
    node_url: str,
    model_id: bytes,
    images: npt.NDArray[np.float64],
    client: str,
    concurrency: int,
) -> list[dict[str, Any]]:
    """Posts every image (as ``input_float``) to the node, ``concurrency`` at a time."""
    mid = "0x" + model_id.hex()

    def one(x: npt.NDArray[np.float64]) -> dict[str, Any]:
        body = {"model_id": mid, "input_float": [float(v) for v in x], "client": client}
        answer: dict[str, Any] = http_json(f"{node_url}/v1/inferences", body)
        return answer

    try:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, images))
    except urllib.error.HTTPError as exc:
        raise DemoError(f"the node refused a request: {exc.code} {exc.read()[:200]!r}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DemoError(f"the node did not answer a request: {exc}") from exc


def _read_cheat_records(node_data: Path) -> dict[int, tuple[str, bool]]:
    """
    The node's cheat record (``node.cheats.RECORD_FILE``): request id → (mode, effective). A
    proof-path lie is effective only once its claim was demanded.
    """
    from node.cheats import RECORD_FILE

    path = node_data / RECORD_FILE
    if not path.is_file():
        return {}
    out: dict[int, tuple[str, bool]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            data = json.loads(line)
            out[int(data["request_id"])] = (str(data["mode"]), bool(data.get("effective", True)))
    return out


def _read_cheats(node_data: Path) -> dict[int, str]:
    """The lies that took effect: request id → mode."""
    return {i: mode for i, (mode, effective) in _read_cheat_records(node_data).items() if effective}


def _wait_final(
    view: ChainView, node: str, sent: int, args: argparse.Namespace, started: float
) -> None:
    """Follows the chain until every claim is final or resolved, printing progress."""
    deadline = time.monotonic() + args.timeout
    last_print = 0.0
    last_line = ""
    while True:
        view.poll()
        s = view.snapshot(node)
        done = (
            s["committed"] >= sent
            and s["batches_final"] == s["batches"]
            and s["onchain_done"] == s["onchain_requested"] == args.onchain_requests
            and s["open_disputes"] == 0
        )
        now = time.monotonic()
        line = progress_line(
            Progress(
                elapsed=now - started,
                sent=sent,
                total=args.requests,
                batched=s["committed"],
                batches=s["batches"],
                batches_final=s["batches_final"],
                onchain_fulfilled=s["onchain_fulfilled"],
                onchain_final=s["onchain_done"],
                onchain_total=args.onchain_requests,
                slashed=s["slashed"],
                open_disputes=s["open_disputes"],
                data_challenges=s["data_challenges"],
                proofs_demanded=s["proofs_demanded"],
                proofs_answered=s["proofs_answered"],
            )
        )
        changed = line.split("]", 1)[1] != last_line.split("]", 1)[-1]
        if done or now - last_print >= 5.0 or (changed and now - last_print >= 1.0):
            print(line, flush=True)
            last_print, last_line = now, line
        if done:
            return
        if now > deadline:
            raise DemoError(f"not every claim was final after --timeout {args.timeout:g} s")
        time.sleep(1.0)


def _report(
    args: argparse.Namespace,
    view: ChainView,
    node: Marketplace,
    answers: list[dict[str, Any]],
    node_url: str,
    node_data: Path,
    children: list[Child],
    started: float,
    pids: list[int],
) -> int:
    from challenger.state import ChallengerState

    w3 = view.w3
    receipts = all_receipts(node_url)
    prove_s = mean_prove_seconds(node_url)
    key_of: dict[bytes, int] = {}
    for r in receipts:
        if r.get("batch_id") is not None:
            leaf = bytes.fromhex(r["receipt_leaf"][2:])
            key_of[bytes(claim_key(CLAIM_SOURCE_BATCH, int(r["batch_id"]), leaf))] = int(
                r["request_id"]
            )
    committed_ids = set(key_of.values())
    records = {i: r for i, r in _read_cheat_records(node_data).items() if i in committed_ids}
    cheats = {i: mode for i, (mode, effective) in records.items() if effective}
    undemanded = sum(
        1 for mode, effective in records.values() if mode in PROOF_CHEAT_MODES and not effective
    )
    slashed_ids: set[int] = set()
    honest_slashed = 0
    for a in view.of("ClaimSlashed"):
        if int(a["source"]) == CLAIM_SOURCE_REQUEST:
            honest_slashed += 1  # the node never lies on on-chain requests
            continue
        request_id = key_of.get(bytes(a["claimKey"]))
        if request_id is None or request_id not in cheats:
            honest_slashed += 1
        else:
            slashed_ids.add(request_id)

    # the challenger writes its state as it stops
    for child in children:
        if child.name == "challenger":
            child.stop()
    state = ChallengerState(node_data.parent / "challenger-state.sqlite")
    try:
        claims = state.all_claims()
        counters = state.counters()
    finally:
        state.close()
    # A public lie is caught by re-execution (drawn at p), a proof lie by a demand (drawn at p_zk).
    reexecuted = {key_of[c.claim_key] for c in claims if c.sampled and c.claim_key in key_of}
    zk_drawn = {key_of[c.claim_key] for c in claims if c.zk_sampled and c.claim_key in key_of}

    def sampled(mode: str) -> set[int]:
        return zk_drawn if mode in PROOF_CHEAT_MODES else reexecuted

    gas: dict[str, int] = {}
    for name in ("BatchCommitted", "RequestFulfilled", "FraudProven", "DataChallenged"):
        gas[name] = sum(_gas_used(w3, tx) for tx in view.txs_of(name))
    onchain = len({int(a["requestId"]) for a in view.of("RequestFulfilled")})
    committed = len(committed_ids) + onchain
    per_mode: dict[str, tuple[int, int, int]] = {}
    for mode in sorted(set(cheats.values())):
        ids = {i for i, m in cheats.items() if m == mode}
        per_mode[mode] = (len(ids), len(ids & sampled(mode)), len(ids & slashed_ids))
    injected = len(cheats)
    frauds_sampled = sum(1 for i, mode in cheats.items() if i in sampled(mode))
    frauds_slashed = len(slashed_ids)
    gas_per_inference = round((gas["BatchCommitted"] + gas["RequestFulfilled"]) / max(committed, 1))
    proofs = {
        "proofs_demanded": len(view.of("ProofDemanded")),
        "proofs_accepted": len(view.of("ProofAccepted")),
        "proofs_rejected": len(view.of("ProofRejected")),
        "proofs_timed_out": len(view.of("ProofDemandTimedOut")),
    }
    verify_gas = [_gas_used(w3, tx) for tx in view.txs_of("ProofAccepted")]
    proof_verify_gas = round(sum(verify_gas) / len(verify_gas)) if verify_gas else None
    proof_lies = sum(1 for mode in cheats.values() if mode in PROOF_CHEAT_MODES)
    stake_now = node.stake_of(node.address)[0]
    slashes = view.of("Slashed")
    seconds = time.monotonic() - started

    print()
    print(modes_table(per_mode))
    print()
    rows: list[tuple[str, object]] = [
        ("requests (HTTP + on-chain)", len(answers) + args.onchain_requests),
        ("claims committed on-chain", committed),
        ("  in batches", len(committed_ids)),
        ("  on-chain requests fulfilled", onchain),
        ("batches committed", len(view.of("BatchCommitted"))),
        ("lies injected by the node", injected),
        ("lies sampled (re-executed or demanded)", frauds_sampled),
        ("lies slashed", frauds_slashed),
        ("honest claims slashed", honest_slashed),
        ("fraud proofs (1 tx each)", len(view.of("FraudProven"))),
        ("data challenges / timed out", f"{len(view.of('DataChallenged'))} / "
                                        f"{len(view.of('DataChallengeTimedOut'))}"),
        (f"proofs demanded (p_zk = {args.p_zk:g})", proofs["proofs_demanded"]),
        ("  of honest claims / of proof lies", f"{proofs['proofs_demanded'] - proof_lies} / "
                                               f"{proof_lies}"),
        ("  accepted / rejected / timed out", f"{proofs['proofs_accepted']} / "
                                              f"{proofs['proofs_rejected']} / "
                                              f"{proofs['proofs_timed_out']}"),
        ("  proof lies never demanded (no effect)", undemanded),
        ("gas of an accepted submitProof", "-" if proof_verify_gas is None else proof_verify_gas),
        ("node proving time per proof (s)", "-" if prove_s is None else round(prove_s, 2)),
        ("node stake left (ETH)", f"{stake_now / ETH:g}"),
        ("node stake slashed (ETH)", f"{sum(int(a['amount']) for a in slashes) / ETH:g}"),
        ("challenger rewards (ETH)", f"{sum(int(a['reward']) for a in slashes) / ETH:g}"),
        ("gas per committed inference", gas_per_inference),
        ("gas of the fraud proofs", gas["FraudProven"]),
        ("sampling probability p", args.sampling_probability),
        ("seconds", round(seconds, 1)),
    ]  # fmt: skip
    print(table(rows, "opzk demo: a cheating node against a challenger"))
    summary = {
        "requests": len(answers) + args.onchain_requests,
        "committed": committed,
        "frauds_injected": injected,
        "frauds_sampled": frauds_sampled,
        "frauds_slashed": frauds_slashed,
        "honest_slashed": honest_slashed,
        "gas_per_inference": gas_per_inference,
        "seconds": round(seconds, 1),
        **proofs,
        "proof_verify_gas": proof_verify_gas,
        "prove_s": None if prove_s is None else round(prove_s, 3),
        "sampling_probability": args.sampling_probability,
        "p_zk": args.p_zk,
        "cheat_rate": args.cheat_rate,
        "frauds_by_mode": {m: list(v) for m, v in per_mode.items()},
        "proof_lies_not_demanded": undemanded,
        "challenger": {k: v for k, v in counters.items() if not k.startswith("sent:")},
        "workdir": str(node_data.parent),
        "pids": pids,
    }
    print(summary_json(summary), flush=True)
    ok = honest_slashed == 0 and frauds_slashed == frauds_sampled
    return 0 if ok else 1


def _gas_used(w3: Web3, tx: bytes) -> int:
    return int(w3.eth.get_transaction_receipt(HexBytes(tx))["gasUsed"])


PROVE_SECONDS_METRIC = "opzk_node_proof_seconds"
"""The node's histogram of proving times (:mod:`node.prover`)."""


def histogram_mean(text: str, name: str) -> float | None:
    """
    ``_sum / _count`` of the Prometheus histogram ``name`` in the exposition ``text`` (summed over
    its label sets); ``None`` when it is absent or has no observation.
    """
    from prometheus_client.parser import text_string_to_metric_families

    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == name:
            for sample in family.samples:
                values[sample.name] = values.get(sample.name, 0.0) + sample.value
    count = values.get(f"{name}_count", 0.0)
    if count <= 0:
        return None
    return values.get(f"{name}_sum", 0.0) / count


def mean_prove_seconds(node_url: str) -> float | None:
    """
    The node's mean proving time, from :data:`PROVE_SECONDS_METRIC` of its ``GET /metrics``;
    ``None`` when it proved nothing or the metrics cannot be read.
    """
    try:
        with urllib.request.urlopen(f"{node_url}/metrics", timeout=10) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    return histogram_mean(text, PROVE_SECONDS_METRIC)
