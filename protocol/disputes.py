"""
Identifiers of dispute games.

Introduction
------------
A proof demand (``ProofDemandGame.demandProof``) is answered by a proof bound to that one demand
through its **job id**

    jobId = keccak256(abi.encode(uint256 chainId, address game, uint256 demandId))

(``Commitments.jobId``; ``ProofDemandGame.jobId(demandId)`` with ``block.chainid`` and the game's
own address), which the SumKZG transcript absorbs (``docs/proof-system.md`` §6): a proof made for
one demand, game or chain is worthless for any other.
"""

from .keccak import keccak256
from .types import Hash32, require_uint, to_address


def proof_job_id(chain_id: int, game: str | bytes, demand_id: int) -> Hash32:
    """
    The job id a proof answering demand ``demand_id`` of ``game`` on chain ``chain_id`` binds.

    Parameters
    ----------
    chain_id :
        The chain's id (``block.chainid``), a ``uint256``.
    game :
        Address of the ``ProofDemandGame`` (a ``0x`` string as :func:`protocol.types.to_address`
        accepts it, or 20 raw bytes).
    demand_id :
        The demand's id in that game, a ``uint256``.

    Returns
    -------
    job_id : `Hash32`
        ``keccak256(abi.encode(uint256 chainId, address game, uint256 demandId))``, what
        ``Commitments.jobId`` and ``ProofDemandGame.jobId(demandId)`` return.

    Raises
    ------
    InvalidIntegerError
        If ``chain_id`` or ``demand_id`` is not an ``int`` that fits ``uint256``.
    InvalidAddressError
        If ``game`` is not an address.
    """
    require_uint(chain_id, 256, "chain_id")
    require_uint(demand_id, 256, "demand_id")
    address = bytes.fromhex(to_address(game, "game")[2:])
    return keccak256(
        chain_id.to_bytes(32, "big") + address.rjust(32, b"\0") + demand_id.to_bytes(32, "big")
    )
