"""
Proof-of-Sampling economics: is honesty the equilibrium for a preset and a sampling rate?

Introduction
------------
A node that cheats once saves ``C`` (the cost of the computation it skipped). A challenger
re-executes a claim with probability ``p``; a share ``r`` of the challengers may collude with the
node (they see the fraud and say nothing), so a cheat is caught with probability at least
``p·(1−r)``. A caught cheat costs the node the slash ``S`` and pays the challenger ``R`` out of it
(``R = S·challenger_reward_bps/10^4``). Following PoSP, honesty is a Nash equilibrium when

    p · (1 − r) · (R + S) > C

(see ``docs/economics.md`` for the derivation and why ``R`` is counted on the left). Everything
here is exact rational arithmetic on the preset's integers, so the verdict does not depend on float
rounding near the boundary; only the messages show rounded figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .exceptions import ProtocolError
from .params import BPS, MarketParams

DEFAULT_SAMPLING_PROBABILITY = 0.1
"""The ``p`` a challenger uses when its configuration does not say (docs/economics.md)."""

DEFAULT_COLLUDING_SHARE = 0.1
"""The colluding share ``r`` assumed when the configuration does not say."""


class PospViolationError(ProtocolError):
    """A (preset, p, r, C) combination for which cheating pays; the message says what to change."""


@dataclass(frozen=True, slots=True)
class PospCheck:
    """
    The verdict of :func:`check_posp`.

    Attributes
    ----------
    ok :
        Whether ``p·(1−r)·(R+S) > C`` holds (strictly).
    expected_loss :
        ``p·(1−r)·(R+S)`` in wei: what one cheat costs the node in expectation.
    cheat_gain :
        ``C`` in wei.
    margin :
        ``expected_loss − C`` in wei (positive iff ``ok``).
    min_p :
        The sampling probability at which the condition becomes an equality (any ``p`` strictly
        above it passes); ``None`` when no ``p ≤ 1`` suffices.
    min_slash :
        The smallest slash (wei) that passes for the given ``p``, ``r`` and reward share (with
        ``R`` rounded down as the contracts do); ``None`` when ``p·(1−r) = 0``.
    message :
        A one-line verdict; when the check fails it names each parameter that would fix it and the
        value it must exceed.
    """

    ok: bool
    expected_loss: Fraction
    cheat_gain: int
    margin: Fraction
    min_p: Fraction | None
    min_slash: int | None
    message: str


def challenger_reward(params: MarketParams) -> int:
    """``R``: the challenger's share of one slash, in wei (the contracts round down)."""
    return params.slash_amount * params.challenger_reward_bps // BPS


def default_cheat_gain(params: MarketParams) -> int:
    """
    The ``C`` assumed when none is given: the preset's minimum request fee.

    A rational node does not accept a fee below its cost of computing, so the fee bounds the cost it
    saves by cheating on one request.
    """
    return params.min_request_fee


def _fraction(value: float | Fraction, name: str) -> Fraction:
    f = Fraction(value)
    if not 0 <= f <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return f


def _wei(value: Fraction) -> str:
    return f"{float(value):.6g} wei ({float(value) / 1e18:.6g} ETH)"


def check_posp(
    params: MarketParams, p: float | Fraction, r: float | Fraction, cheat_gain: int
) -> PospCheck:
    """
    Check the Proof-of-Sampling condition ``p·(1−r)·(R+S) > C`` for ``params``.

    Parameters
    ----------
    params :
        The preset; ``S = slash_amount`` and ``R = S·challenger_reward_bps/10^4``.
    p :
        Sampling probability, in ``[0, 1]``.
    r :
        Colluding share of challengers, in ``[0, 1]``.
    cheat_gain :
        ``C``, a node's gain from cheating once, in wei (``>= 0``).

    Returns
    -------
    PospCheck
        ``ok`` is exact; ``message`` names the fix when ``ok`` is false.

    Raises
    ------
    ValueError
        If ``p`` or ``r`` is outside ``[0, 1]`` or ``cheat_gain`` is negative.
    """
    pf, rf = _fraction(p, "p"), _fraction(r, "r")
    if cheat_gain < 0:
        raise ValueError(f"cheat_gain must be >= 0, got {cheat_gain}")
    reward = challenger_reward(params)
    at_stake = reward + params.slash_amount
    catch = pf * (1 - rf)
    loss = catch * at_stake
    margin = loss - cheat_gain
    ok = margin > 0
    min_p: Fraction | None = None
    if at_stake > 0 and rf < 1:
        needed = Fraction(cheat_gain) / ((1 - rf) * at_stake)
        min_p = needed if needed < 1 else None
    # R + S = S·(1 + bps/10^4); the equality slash is C / (p·(1−r)·(1 + bps/10^4)).
    factor = 1 + Fraction(params.challenger_reward_bps, BPS)
    min_slash: int | None = None
    if catch > 0:
        # The smallest integer slash that passes, with R rounded down as the contracts do.
        slash = int(Fraction(cheat_gain) / (catch * factor)) + 1
        while catch * (slash + slash * params.challenger_reward_bps // BPS) <= cheat_gain:
            slash += 1
        min_slash = slash
    head = (
        f"PoSP p·(1−r)·(R+S) > C with p={float(pf):.6g}, r={float(rf):.6g}, "
        f"R={reward} wei, S={params.slash_amount} wei, C={cheat_gain} wei: "
        f"expected loss {_wei(loss)}"
    )
    if ok:
        message = f"{head} > C (margin {_wei(margin)}): honesty is the equilibrium"
    else:
        fixes: list[str] = []
        if min_p is not None:
            fixes.append(f"raise p (sampling_probability) to > {float(min_p):.6g}")
        if min_slash is not None:
            slash_text = f"slash_amount to >= {min_slash} wei"
            if min_slash > params.min_node_stake:
                slash_text += f" (and min_node_stake with it, now {params.min_node_stake})"
            fixes.append(slash_text)
        if pf > 0 and at_stake > 0:
            max_r = 1 - Fraction(cheat_gain) / (pf * at_stake)
            if max_r > 0:
                fixes.append(f"assume a colluding share r < {float(max_r):.6g}")
        fixes.append(f"or lower the cheat gain C below {_wei(loss)}")
        message = f"{head} <= C: cheating pays; " + ", or ".join(fixes[:-1])
        message += (", " if len(fixes) > 1 else "") + fixes[-1]
    return PospCheck(
        ok=ok,
        expected_loss=loss,
        cheat_gain=cheat_gain,
        margin=margin,
        min_p=min_p,
        min_slash=min_slash,
        message=message,
    )


def require_posp(
    params: MarketParams, p: float | Fraction, r: float | Fraction, cheat_gain: int
) -> PospCheck:
    """:func:`check_posp`, raising :class:`PospViolationError` (with the fix) when it fails."""
    check = check_posp(params, p, r, cheat_gain)
    if not check.ok:
        raise PospViolationError(check.message)
    return check
