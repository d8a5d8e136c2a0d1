"""
The challenger's settings.

:class:`ChallengerSettings` is a pydantic-settings model. :func:`load_settings` reads, from highest
to lowest priority: keyword overrides, environment variables ``OPZK_CHALLENGER_<FIELD>`` (lists as
JSON), the config file (``--config challenger.toml`` or ``.json``; relative paths in it are taken
relative to the file) and the defaults. The private key and the sampling secret are
:class:`~pydantic.SecretStr`: they never appear in a repr, a log line or an error message. Any
problem is one :class:`ChallengerConfigError` naming every bad field.

Two refusals need the chain and happen at start (:func:`check_key_for_chain`): one of Anvil's
well-known dev keys on a chain other than Anvil's, and (in ``service``) a PoSP-breaking
combination of preset, ``p``, ``r`` and ``C``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    SettingsConfigDict,
)

from opzk.settings_files import describe_errors, load_layered, read_config_file
from protocol.economics import DEFAULT_COLLUDING_SHARE, DEFAULT_SAMPLING_PROBABILITY
from protocol.errors import OpzkError

ENV_PREFIX = "OPZK_CHALLENGER_"
PATH_FIELDS = ("deployments", "models", "state_path")
_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_SECRET = re.compile(r"^(0x)?([0-9a-fA-F]{2}){16,}$")


class ChallengerConfigError(OpzkError):
    """The challenger's settings are missing, malformed or refused."""


def default_model_paths() -> list[Path]:
    """The digits model shipped with the repository."""
    from models.digits import MODEL_PATH

    return [MODEL_PATH]


class ChallengerSettings(BaseSettings):
    """Everything a challenger is configured with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", env_ignore_empty=True, validate_default=True
    )

    rpc_url: str = "http://127.0.0.1:8545"
    """The chain's JSON-RPC endpoint."""
    private_key: SecretStr
    """The challenger's signing key (``0x`` + 64 hex)."""
    deployments: Path | None = None
    """The deployments file; default ``deployments/local/<chain id>.json`` (or
    ``deployments/<chain id>.json``)."""
    models: list[Path] = Field(default_factory=default_model_paths)
    """Model files (``*.opzkmodel``) whose claims this challenger checks."""
    node_urls: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8000"])
    """Base URLs of node APIs serving receipts and traces."""
    sampling_probability: float = Field(DEFAULT_SAMPLING_PROBABILITY, ge=0.0, le=1.0)
    """``p``: the probability with which a claim is re-executed."""
    p_zk: float = Field(0.0, ge=0.0, le=1.0)
    """The probability with which a claim's sensitive partitions are demanded a proof of (drawn
    independently of re-execution; each demand posts the preset's proof bond, which an honest node
    earns)."""
    proofs_enabled: bool = False
    """Send proof demands (``ProofDemandGame.demandProof``) for claims drawn at ``p_zk``."""
    sampling_secret: SecretStr
    """Hex secret (≥ 16 bytes) keying the sampling rule; keep it from the nodes."""
    poll_interval: float = Field(2.0, gt=0.0)
    """Seconds between rounds of the jobs."""
    state_path: Path = Path("challenger-state.sqlite")
    """The SQLite state file (cursor, claims, disputes)."""
    colluding_share: float = Field(DEFAULT_COLLUDING_SHARE, ge=0.0, lt=1.0)
    """``r``: the share of challengers assumed to collude with a cheating node (PoSP check)."""
    cheat_gain: int | None = Field(None, ge=0)
    """``C`` in wei for the PoSP check; default the preset's minimum request fee."""
    credit_threshold: int = Field(10**17, ge=0)
    """Withdraw StakeManager credits once they reach this many wei."""
    window_margin: int = Field(5, ge=0)
    """Seconds before a window's end after which no new dispute is started."""
    device: str = "auto"
    """Torch device for re-execution (``auto``: CUDA when present)."""
    max_block_range: int = Field(2_000, ge=1)
    """Largest ``eth_getLogs`` range."""
    fetch_attempts: int = Field(5, ge=1)
    """Tries to fetch a trace before counting it withheld."""

    def __repr__(self) -> str:
        return f"ChallengerSettings(rpc_url={self.rpc_url!r}, p={self.sampling_probability})"

    @field_validator("private_key")
    @classmethod
    def _key_format(cls, value: SecretStr) -> SecretStr:
        if not _KEY.match(value.get_secret_value()):
            raise ValueError("must be 32 bytes of hex (0x + 64 hex digits)")
        return value

    @field_validator("sampling_secret")
    @classmethod
    def _secret_format(cls, value: SecretStr) -> SecretStr:
        if not _SECRET.match(value.get_secret_value()):
            raise ValueError("must be hex of at least 16 bytes (32 hex digits)")
        return value

    @field_validator("node_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    def secret_bytes(self) -> bytes:
        """The sampling secret as bytes."""
        text = self.sampling_secret.get_secret_value()
        return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def load_settings(config: Path | None = None, **overrides: Any) -> ChallengerSettings:
    """
    Settings from ``overrides`` > environment > ``config`` file > defaults.

    Raises :class:`ChallengerConfigError` naming every invalid field.
    """
    file_data = (
        read_config_file(config, PATH_FIELDS, ChallengerConfigError) if config is not None else {}
    )
    try:
        return load_layered(ChallengerSettings, file_data, overrides)
    except ValidationError as exc:
        where = f" (config file {config})" if config is not None else ""
        raise ChallengerConfigError(
            f"invalid challenger settings{where}: {describe_errors(exc)}"
        ) from exc


def check_key_for_chain(settings: ChallengerSettings, chain_id: int) -> None:
    """
    Refuse Anvil's well-known dev keys anywhere but on Anvil's chain id (31337): anyone can sign
    with them.
    """
    from deploy.anvil import ANVIL_CHAIN_ID, ANVIL_DEFAULT_KEYS

    if chain_id == ANVIL_CHAIN_ID:
        return
    key = settings.private_key.get_secret_value().lower()
    key = key if key.startswith("0x") else "0x" + key
    if key in {k.lower() for k in ANVIL_DEFAULT_KEYS}:
        raise ChallengerConfigError(
            f"private_key is one of Anvil's public dev keys; refused on chain id {chain_id} "
            f"(only {ANVIL_CHAIN_ID} allows them)"
        )
