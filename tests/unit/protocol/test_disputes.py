"""Tests for protocol.disputes: the proof-demand job id."""

import pytest
from eth_abi.abi import encode

from protocol.disputes import proof_job_id
from protocol.exceptions import InvalidAddressError, InvalidIntegerError
from protocol.keccak import keccak256

GAME = "0x4444444444444444444444444444444444444444"


def test_job_id_is_the_abi_encoding_of_chain_game_and_demand() -> None:
    for chain_id, demand_id in [(1, 0), (31337, 1), (2**256 - 1, 2**256 - 1)]:
        expected = keccak256(encode(["uint256", "address", "uint256"], [chain_id, GAME, demand_id]))
        assert proof_job_id(chain_id, GAME, demand_id) == expected
        assert proof_job_id(chain_id, bytes.fromhex(GAME[2:]), demand_id) == expected


def test_job_id_separates_chains_games_and_demands() -> None:
    base = proof_job_id(1, GAME, 1)
    assert proof_job_id(31337, GAME, 1) != base
    assert proof_job_id(1, "0x4444444444444444444444444444444444444445", 1) != base
    assert proof_job_id(1, GAME, 2) != base


def test_invalid_job_id_arguments() -> None:
    with pytest.raises(InvalidIntegerError):
        proof_job_id(-1, GAME, 1)
    with pytest.raises(InvalidIntegerError):
        proof_job_id(1, GAME, 2**256)
    with pytest.raises(InvalidIntegerError):
        proof_job_id(1, GAME, True)
    with pytest.raises(InvalidAddressError):
        proof_job_id(1, GAME[:-1], 1)
