"""
Market parameters: the preset every contract of a deployment is built from.

Introduction
------------
One :class:`MarketParams` fixes every economic and timing rule of a deployment: the challenge
window, the response windows of disputes, the request timeout, the withdrawal delay, the minimum
stake, the slash, the challenger's share of it, the bonds and the minimum fee. The Solidity library
``MarketParamsLib.validate`` enforces the same consistency rules as :func:`validate_params`, with
the same error names, so a preset that Python accepts deploys and one it refuses would revert.
"""

from dataclasses import asdict, dataclass
from typing import Any

from .exceptions import ProtocolError

BPS = 10_000
"""Basis points in one whole (the challenger's reward share is in basis points)."""

MARKET_PARAMS_ABI = (
    "(uint64,uint64,uint64,uint64,uint64,uint256,uint256,uint16,uint256,uint256,uint256)"
)
"""ABI type of the Solidity ``MarketParams`` struct, fields in declaration order."""


class InvalidParamsError(ProtocolError):
    """
    A preset breaks a consistency rule; ``rule`` names the Solidity error it mirrors.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


@dataclass(frozen=True, slots=True)
class MarketParams:
    """
    Every parameter of a deployment. Times are in seconds, amounts in wei.

    ``withdrawal_delay`` must exceed ``challenge_window`` plus the longer response window, so that
    stake leaving a node can still be slashed for any claim made before the withdrawal was asked.
    """

    challenge_window: int
    data_response_window: int
    proof_response_window: int
    request_timeout: int
    withdrawal_delay: int
    min_node_stake: int
    slash_amount: int
    challenger_reward_bps: int
    data_bond: int
    proof_bond: int
    min_request_fee: int

    def as_abi_tuple(self) -> tuple[int, ...]:
        """The struct as a tuple in Solidity field order (for web3 / eth_abi)."""
        return (
            self.challenge_window,
            self.data_response_window,
            self.proof_response_window,
            self.request_timeout,
            self.withdrawal_delay,
            self.min_node_stake,
            self.slash_amount,
            self.challenger_reward_bps,
            self.data_bond,
            self.proof_bond,
            self.min_request_fee,
        )

    @property
    def longest_dispute(self) -> int:
        """The longer of the two response windows."""
        return max(self.data_response_window, self.proof_response_window)

    def as_json(self) -> dict[str, int]:
        """The parameters as a JSON-ready dict (snake_case keys)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MarketParams":
        """Reads the dict written by :meth:`as_json`; unknown or missing keys are an error."""
        fields = set(cls.__dataclass_fields__)
        unknown = set(data) - fields
        missing = fields - set(data)
        if unknown or missing:
            raise InvalidParamsError(
                "MalformedPreset",
                f"unknown keys {sorted(unknown)}, missing keys {sorted(missing)}",
            )
        values: dict[str, int] = {}
        for key in fields:
            value = data[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidParamsError("MalformedPreset", f"{key} must be a non-negative integer")
            bits = _FIELD_BITS.get(key, 256)
            if value >= 1 << bits:
                raise InvalidParamsError(
                    "MalformedPreset", f"{key} {value} does not fit the contracts' uint{bits}"
                )
            values[key] = value
        return cls(**values)


_FIELD_BITS = {
    "challenge_window": 64,
    "data_response_window": 64,
    "proof_response_window": 64,
    "request_timeout": 64,
    "withdrawal_delay": 64,
    "challenger_reward_bps": 16,
}
"""Widths of the Solidity ``MarketParams`` fields that are not ``uint256``."""


def validate_params(p: MarketParams) -> None:
    """
    Raise :class:`InvalidParamsError` unless ``p`` satisfies ``MarketParamsLib.validate``.

    The rules, in the Solidity order: no zero window; withdrawal delay strictly longer than the
    challenge window plus the longest dispute; reward share at most 100%; a non-zero slash no larger
    than the minimum stake; non-zero bonds.
    """
    windows = (
        p.challenge_window,
        p.data_response_window,
        p.proof_response_window,
        p.request_timeout,
    )
    if 0 in windows:
        raise InvalidParamsError("ZeroWindow", "every window and timeout must be positive")
    bound = p.challenge_window + p.longest_dispute
    if p.withdrawal_delay <= bound:
        raise InvalidParamsError(
            "WithdrawalDelayTooShort",
            f"withdrawal_delay {p.withdrawal_delay} s must exceed challenge_window + longest "
            f"response window = {bound} s",
        )
    if p.challenger_reward_bps > BPS:
        raise InvalidParamsError(
            "RewardShareTooHigh", f"challenger_reward_bps {p.challenger_reward_bps} > {BPS}"
        )
    if p.slash_amount == 0 or p.slash_amount > p.min_node_stake:
        raise InvalidParamsError(
            "SlashExceedsMinStake",
            f"slash_amount {p.slash_amount} must be positive and at most min_node_stake "
            f"{p.min_node_stake}",
        )
    if p.data_bond == 0 or p.proof_bond == 0:
        raise InvalidParamsError("ZeroBond", "data_bond and proof_bond must be positive")
