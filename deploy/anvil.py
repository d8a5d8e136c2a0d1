"""
A local Anvil node, started and stopped from Python.

Introduction
------------
Anvil (Foundry's development node, installed from npm) is the embedded
default chain: :class:`AnvilNode` starts it on a free localhost port with
chain id 31337, waits until it answers JSON-RPC, and stops it again, always
reaping the process. Used as a context manager::

    with AnvilNode() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))

Anvil's default hardfork (Prague or later) has the EIP-2537 BLS12-381
precompiles that the zk verifier needs; :meth:`AnvilNode.start` checks that
they answer, so a node started with an older hardfork fails at once instead of
at the first proof.

The funded dev accounts come from Anvil's well-known mnemonic
(:data:`ANVIL_MNEMONIC`); their private keys are derived here, not pasted
(:func:`dev_keys`, and the lazily computed :data:`ANVIL_DEFAULT_KEYS`).
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self

from eth_account import Account

from deploy import paths

ANVIL_CHAIN_ID: Final = 31337
"""The chain id the node is started with (Anvil's and Hardhat's usual one)."""

ANVIL_MNEMONIC: Final = "test test test test test test test test test test test junk"
"""Anvil's default mnemonic; its accounts are funded at genesis. Development only."""

ANVIL_DEFAULT_KEYS: tuple[str, ...]
"""The private keys (``0x`` hex) of Anvil's 10 default accounts, derived on first use."""

BLS12_G1ADD: Final = "0x000000000000000000000000000000000000000b"
"""The EIP-2537 G1 addition precompile (Prague)."""

_STDERR_TAIL: Final = 2000


class AnvilError(RuntimeError):
    """Anvil could not be started, died, or does not behave as required."""


@functools.cache
def dev_keys(count: int = 10) -> tuple[str, ...]:
    """
    Return the private keys of the first ``count`` accounts of :data:`ANVIL_MNEMONIC`.

    They follow the BIP-44 path ``m/44'/60'/0'/0/i``, as Anvil derives them, so
    key ``i`` controls the ``i``-th account Anvil funds.
    """
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Account.from_mnemonic(
            ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}"
        ).key.to_0x_hex()
        for index in range(count)
    )


def __getattr__(name: str) -> Any:
    # PEP 562: ANVIL_DEFAULT_KEYS is computed on first access (deriving keys takes a moment).
    if name == "ANVIL_DEFAULT_KEYS":
        return dev_keys(10)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def rpc_call(url: str, method: str, params: Sequence[Any] = (), timeout: float = 10.0) -> Any:
    """
    Make one JSON-RPC call and return its ``result``.

    Raises
    ------
    AnvilError
        When the node answers with a JSON-RPC error.
    OSError
        When the node cannot be reached (``urllib.error.URLError`` is one).
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise AnvilError(f"{method} failed: {answer['error']}")
    return answer.get("result")


def _reap(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop a process (SIGTERM, then SIGKILL after ``grace`` seconds) and wait for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


class AnvilNode:
    """
    One Anvil process on localhost.

    Parameters
    ----------
    port
        TCP port; default a free one (chosen again if another process takes it first).
    host
        Address to listen on.
    chain_id
        Chain id; default :data:`ANVIL_CHAIN_ID`.
    block_time
        Seconds between blocks; default ``None``, automine (a block per transaction).
    accounts
        Number of funded dev accounts.
    balance
        Balance of each dev account, in ether.
    hardfork
        Anvil's ``--hardfork``; default Anvil's own (Prague or later).
    binary
        The ``anvil`` executable; default :func:`deploy.paths.anvil_binary`.
    startup_timeout
        Seconds to wait for the node to answer ``eth_chainId``.
    check_bls
        Check at start that the EIP-2537 precompiles answer.
    extra_args
        More command-line options, e.g. ``["--code-size-limit", "100000"]``.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        chain_id: int = ANVIL_CHAIN_ID,
        block_time: float | None = None,
        accounts: int = 10,
        balance: int = 10_000,
        hardfork: str | None = None,
        binary: Path | None = None,
        startup_timeout: float = 30.0,
        check_bls: bool = True,
        extra_args: Sequence[str] = (),
    ) -> None:
        if block_time is not None and block_time <= 0:
            raise ValueError(f"block_time must be positive (None for automine), got {block_time}")
        self.host: Final = host
        self.chain_id: Final = chain_id
        self.block_time: Final = block_time
        self.accounts: Final = accounts
        self.balance: Final = balance
        self.hardfork: Final = hardfork
        self.startup_timeout: Final = startup_timeout
        self.check_bls: Final = check_bls
        self.extra_args: Final = tuple(extra_args)
        self._requested_port = port
        self._binary = binary
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # ---------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the node listens on (only once started)."""
        if self._port is None:
            raise AnvilError("the Anvil node is not started")
        return self._port

    @property
    def rpc_url(self) -> str:
        """The node's HTTP JSON-RPC endpoint."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The Anvil process id while it runs, else None."""
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        """True while the Anvil process is alive."""
        return self._process is not None and self._process.poll() is None

    def command(self, port: int) -> list[str]:
        """Return the command line that starts this node on ``port``."""
        binary = self._binary or paths.anvil_binary()
        command = [
            str(binary),
            "--host", self.host,
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--balance", str(self.balance),
            "--silent",
        ]  # fmt: skip
        if self.block_time is not None:
            command += ["--block-time", f"{self.block_time:g}"]
        if self.hardfork is not None:
            command += ["--hardfork", self.hardfork]
        return command + list(self.extra_args)

    # ---------------------------------------------------------------------------------------------

    def start(self) -> Self:
        """
        Start the node and wait until it answers.

        Raises
        ------
        AnvilError
            When Anvil exits or does not answer within ``startup_timeout``
            (the message ends with Anvil's stderr), or lacks the BLS precompiles.
        """
        if self._process is not None:
            raise AnvilError("this Anvil node was already started")
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(attempts):
            port = self._requested_port or free_port(self.host)
            try:
                self._launch(port)
                self._wait_ready()
                break
            except AnvilError as error:
                in_use = "address already in use" in str(error).lower()
                self.stop()
                if not in_use or attempt == attempts - 1:
                    raise
        if self.check_bls and not self.has_bls_precompiles():
            self.stop()
            raise AnvilError(
                "this Anvil has no EIP-2537 BLS12-381 precompiles (hardfork "
                f"{self.hardfork or 'default'}); use Prague or later"
            )
        return self

    def _launch(self, port: int) -> None:
        # Held open for the life of the process, closed by stop().
        self._stderr = tempfile.TemporaryFile(prefix="anvil-stderr-")  # noqa: SIM115
        command = self.command(port)
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env={**os.environ, "NO_COLOR": "1"},
            )
        except OSError as error:
            self._stderr.close()
            self._stderr = None
            raise AnvilError(f"cannot run {command[0]}: {error}") from error
        self._port = port
        # Reap the process even if the owner forgets stop(), at garbage collection or exit.
        self._finalizer = weakref.finalize(self, _reap, self._process)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.02
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise AnvilError(
                    f"anvil exited with code {self._process.returncode} while starting on "
                    f"{self.rpc_url}:\n{self.stderr_tail()}"
                )
            try:
                chain_id = int(rpc_call(self.rpc_url, "eth_chainId", timeout=2.0), 16)
            except (OSError, ValueError):
                chain_id = None
            if chain_id is not None:
                if chain_id != self.chain_id:
                    raise AnvilError(
                        f"the node at {self.rpc_url} has chain id {chain_id}, not {self.chain_id}"
                    )
                return
            if time.monotonic() > deadline:
                raise AnvilError(
                    f"anvil did not answer on {self.rpc_url} within {self.startup_timeout:g}s:\n"
                    f"{self.stderr_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def stderr_tail(self) -> str:
        """Return the last part of what Anvil wrote to stderr."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - _STDERR_TAIL))
        return self._stderr.read().decode(errors="replace").strip()

    def rpc(self, method: str, *params: Any) -> Any:
        """Make a JSON-RPC call to the node and return its result."""
        return rpc_call(self.rpc_url, method, params)

    def has_bls_precompiles(self) -> bool:
        """
        True when the EIP-2537 precompiles answer.

        Calls G1ADD (``0x0b``) on two points at infinity (256 zero bytes); with
        the precompile the answer is the point at infinity, 128 zero bytes;
        without it, the call hits an empty account and returns nothing.
        """
        call = {"to": BLS12_G1ADD, "data": "0x" + "00" * 256}
        result = self.rpc("eth_call", call, "latest")
        return isinstance(result, str) and result == "0x" + "00" * 128

    def stop(self) -> None:
        """Stop the node: SIGTERM, SIGKILL if it lingers, and always reap it. Idempotent."""
        if self._finalizer is not None:
            self._finalizer()  # runs _reap once, then detaches
            self._finalizer = None
        self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._requested_port is None:
            self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running on {self.rpc_url}" if self.is_running() else "stopped"
        return f"AnvilNode({state})"
