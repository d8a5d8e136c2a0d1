// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {InferenceMarket} from "../InferenceMarket.sol";
import {ModelRegistry} from "../ModelRegistry.sol";
import {StakeManager} from "../StakeManager.sol";
import {Commitments} from "../lib/Commitments.sol";
import {MarketParamsLib} from "../lib/MarketParamsLib.sol";
import {Claim, MarketParams} from "../lib/Types.sol";

/// @title DisputeGameBase
/// @notice What every dispute game shares: the contracts it acts on, the slash amount of the preset,
///         and checking a vector against a claim's trace root.
abstract contract DisputeGameBase {
    InferenceMarket public immutable market;
    StakeManager public immutable stakes;
    ModelRegistry public immutable registry;
    uint256 public immutable slashAmount;

    /// @notice The vector's hash is not the committed trace entry at this index.
    error InvalidTraceProof(uint256 index);

    constructor(InferenceMarket market_, MarketParams memory params) {
        MarketParamsLib.validate(params);
        market = market_;
        stakes = market_.stakes();
        registry = market_.registry();
        slashAmount = params.slashAmount;
    }

    /// @dev Reverts unless `traceLeaf(index, activationHash)` is in the claim's trace tree.
    function _checkTraceEntry(
        Claim memory c,
        uint32 index,
        bytes32 activationHash,
        bytes32[] calldata proof
    ) internal pure {
        bytes32 leaf = Commitments.traceLeaf(index, activationHash);
        if (!MerkleProof.verifyCalldata(proof, c.traceRoot, leaf)) revert InvalidTraceProof(index);
    }

    /// @dev Slashes the claim's node by the preset amount in favour of `challenger`.
    function _slash(Claim memory c, address challenger) internal returns (uint256) {
        return stakes.slash(c.node, slashAmount, challenger);
    }
}
