"""
The node's settings: environment (``OPZK_NODE_*``) and/or a TOML or JSON file, validated at start.

Introduction
------------
:class:`NodeSettings` is a pydantic-settings model. :func:`load_settings` reads, from highest to
lowest priority, explicit overrides (the command line), the environment (``OPZK_NODE_RPC_URL``,
``OPZK_NODE_PRIVATE_KEY``, …; lists as JSON), the config file (``--config node.toml`` or
``.json``; relative paths in it are taken relative to the file) and the defaults. Any problem is
one :class:`NodeConfigError` whose message names every bad field.

What cannot be checked without the chain (Anvil's public keys on another chain id, the deployments
file matching the chain) is checked when the node connects (:mod:`node.chainio`), and cheat modes
(``cheat_rate > 0``, for tests and the demo) are refused off Anvil's chain id when the node builds
its :class:`~node.cheats.CheatPlan`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    SettingsConfigDict,
)

from opzk.settings_files import describe_errors, load_layered, read_config_file
from protocol.errors import OpzkError

ENV_PREFIX = "OPZK_NODE_"
CONFIG_ENV = "OPZK_NODE_CONFIG"
"""Environment variable naming the config file when ``--config`` is not given."""

PATH_FIELDS = ("deployments", "models", "data_dir")
"""Fields whose relative paths in a config file are resolved against the file's directory."""

_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")

CheatModeName = Literal[
    "wrong_output", "wrong_layer", "bad_endpoint", "withheld_trace", "refused_proof",
    "invalid_proof",
]  # fmt: skip
"""The names of :class:`node.cheats.CheatMode`."""

DEFAULT_CHEAT_MODES: tuple[CheatModeName, ...] = (
    "wrong_output",
    "wrong_layer",
    "bad_endpoint",
    "withheld_trace",
)
"""The default cheat modes: lies about traces. The proof modes (``refused_proof``,
``invalid_proof``) act on proof demands and are chosen explicitly."""


class NodeConfigError(OpzkError):
    """The node's settings are missing, malformed or inconsistent."""


def default_model_paths() -> list[Path]:
    """The trained digits model shipped with the repository."""
    from models.digits import MODEL_PATH

    return [MODEL_PATH]


class NodeSettings(BaseSettings):
    """Everything an inference node is configured with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", env_ignore_empty=True, validate_default=True
    )

    rpc_url: str = "http://127.0.0.1:8545"
    """JSON-RPC endpoint of the chain."""
    private_key: SecretStr | None = None
    """The node's signing key (0x hex). Optional only on Anvil's chain id, where the node then uses
    Anvil's development account 1."""
    deployments: Path | None = None
    """The deployments file; default ``deployments/local/<chain id>.json`` (or
    ``deployments/<chain id>.json``) as ``opzk deploy`` writes it."""
    models: list[Path] = Field(default_factory=default_model_paths, min_length=1)
    """Model files (``.opzkmodel``) to serve; default the digits model."""
    data_dir: Path = Path(".opzk/node")
    """Where the node keeps its database (by default) and nothing else."""
    database_url: str | None = None
    """Any SQLAlchemy URL; default ``sqlite:///<data_dir>/node.sqlite``."""
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    """SQLite ``synchronous`` pragma (WAL mode). ``NORMAL`` survives a process crash (``kill -9``)
    but not a power loss; ``FULL`` survives both."""
    batch_interval: float = Field(5.0, gt=0, le=86_400)
    """T: seconds between batch commits."""
    max_batch_size: int = Field(4096, ge=1, le=65_536)
    """N: most receipts per batch; a batch is also posted as soon as N receipts are pending."""
    max_body_bytes: int = Field(65_536, ge=256, le=16 * 1024 * 1024)
    """Largest accepted request body; larger ones get 413."""
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65_535)
    poll_interval: float = Field(1.0, gt=0, le=3_600)
    """Seconds between polls of chain events (watcher, finalizer, responder)."""
    confirmations: int = Field(0, ge=0, le=1_000)
    """Blocks behind the head the watcher stays (0 on Anvil)."""
    log_chunk_blocks: int = Field(2_000, ge=1, le=100_000)
    """Most blocks per ``eth_getLogs`` call."""
    finalize_batches: bool = True
    """Call ``finalizeBatch`` for this node's batches once their window has passed."""
    respond_to_challenges: bool = True
    """Answer data-availability challenges and proof demands against this node (turn off only to
    test slashing). Proof demands need the commitment sidecar next to each sensitive model file
    (:mod:`models.sensitive`)."""
    serve_onchain: bool = True
    """Serve on-chain requests: ``serveModel`` at start, fulfil and finalize assigned requests."""
    runtime: Literal["torch", "numpy"] = "torch"
    """Batched runtime: ``torch`` (:mod:`protocol.runtime_torch`) or the numpy reference."""
    device: str = "cpu"
    """Torch device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when present)."""
    torch_threads: int = Field(1, ge=1, le=256)
    max_inference_batch: int = Field(256, ge=1, le=65_536)
    """Most concurrent requests run as one micro-batch."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    cheat_rate: float = Field(0.0, ge=0.0, le=1.0)
    """Share of off-chain requests the node lies on, **for tests and the demo only**: refused on
    any chain id but Anvil's (31337). See :mod:`node.cheats`."""
    cheat_modes: list[CheatModeName] = Field(
        default_factory=lambda: list(DEFAULT_CHEAT_MODES), min_length=1
    )
    """The lies drawn from, equally often. ``refused_proof`` and ``invalid_proof`` take effect when
    a proof demand names the request (no answer; a proof with a flipped byte)."""
    cheat_seed: int = Field(0, ge=0, lt=2**256)
    """Seeds the per-request choice of cheats (deterministic in seed and request id)."""

    @field_validator("private_key")
    @classmethod
    def _key_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _KEY.match(value.get_secret_value()):
            raise ValueError("must be 32 bytes of hex (64 hex digits, optional 0x)")
        return value

    @field_validator("models")
    @classmethod
    def _models_exist(cls, value: list[Path]) -> list[Path]:
        missing = [str(p) for p in value if not p.is_file()]
        if missing:
            raise ValueError(f"model file(s) not found: {', '.join(missing)}")
        if len(set(value)) != len(value):
            raise ValueError("a model file is listed twice")
        return value

    @field_validator("cheat_modes")
    @classmethod
    def _modes_unique(cls, value: list[CheatModeName]) -> list[CheatModeName]:
        if len(set(value)) != len(value):
            raise ValueError("a cheat mode is listed twice")
        return value

    @field_validator("rpc_url")
    @classmethod
    def _rpc_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _deployments_exist(self) -> NodeSettings:
        if self.deployments is not None and not self.deployments.is_file():
            raise ValueError(f"deployments file {self.deployments} not found; run `opzk deploy`")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'node.sqlite').resolve()}"

    @property
    def key_hex(self) -> str | None:
        """The private key as ``0x`` hex, if set."""
        if self.private_key is None:
            return None
        raw = self.private_key.get_secret_value()
        return raw if raw.startswith("0x") else "0x" + raw


def load_settings(config: Path | None = None, **overrides: Any) -> NodeSettings:
    """
    Settings from ``overrides`` > environment > ``config`` file > defaults.

    Raises :class:`NodeConfigError` naming every invalid field.
    """
    file_data = read_config_file(config, PATH_FIELDS, NodeConfigError) if config is not None else {}
    try:
        return load_layered(NodeSettings, file_data, overrides)
    except ValidationError as exc:
        where = f" (config file {config})" if config is not None else ""
        raise NodeConfigError(f"invalid node settings{where}: {describe_errors(exc)}") from exc
