// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ClaimSource, LayerHeader, PartitionSpec, Receipt} from "./Types.sol";

/// @title Commitment rules of opzk (docs/protocol.md)
/// @notice Activation hashes, trace leaves, receipt leaves, claim keys, proof-demand job ids, weight-row
///         leaves and model ids. Python's `protocol/` implements the same rules; tests/vectors/*.json pin
///         both to the same bytes.
library Commitments {
    /// @notice Domain tag of model ids, version 1.
    bytes32 internal constant MODEL_DOMAIN = keccak256("opzk.model.v1");

    /// @notice keccak256(abi.encodePacked(uint32(len(v)), v)) of an int8 activation vector.
    function actHash(bytes calldata v) internal pure returns (bytes32 h) {
        uint256 len = v.length;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(224, len))
            calldatacopy(add(ptr, 4), v.offset, len)
            h := keccak256(ptr, add(len, 4))
        }
    }

    /// @notice Leaf of layer `index` in a trace tree: keccak256(abi.encodePacked(uint32(index), a)).
    function traceLeaf(uint32 index, bytes32 activationHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(index, activationHash));
    }

    /// @notice Leaf of a receipt in a batch tree.
    function receiptLeaf(Receipt calldata r) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(r.requestId, r.modelId, r.inputHash, r.outputHash, r.traceRoot, r.node, r.client)
        );
    }

    /// @notice What an on-chain fulfilment stores: keccak256(abi.encode(outputHash, traceRoot)).
    function resultHash(bytes32 outputHash, bytes32 traceRoot) internal pure returns (bytes32) {
        return keccak256(abi.encode(outputHash, traceRoot));
    }

    /// @notice Key of a claim: keccak256(abi.encode(source, containerId, receiptLeaf)), where
    ///         containerId is the batch id or the on-chain request id.
    function claimKey(ClaimSource source, uint256 containerId, bytes32 leaf) internal pure returns (bytes32) {
        return keccak256(abi.encode(source, containerId, leaf));
    }

    /// @notice Id a proof answering demand `demandId` of proof-demand game `game` on chain `chainId` binds:
    ///         keccak256(abi.encode(chainId, game, demandId)).
    function jobId(uint256 chainId, address game, uint256 demandId) internal pure returns (bytes32) {
        return keccak256(abi.encode(chainId, game, demandId));
    }

    /// @notice Leaf of row `j` in a public layer's weight tree (hashed twice, see docs/protocol.md).
    function weightRowLeaf(uint32 row, int32 bias, bytes calldata weights)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encodePacked(row, bias, weights))));
    }

    /// @notice The identity of a model: a hash over its headers, weight roots and partitions.
    function modelId(
        LayerHeader[] calldata headers,
        bytes32[] calldata weightRoots,
        PartitionSpec[] calldata partitions
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(MODEL_DOMAIN, headers, weightRoots, partitions));
    }
}
