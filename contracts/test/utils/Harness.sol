// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Commitments} from "../../src/lib/Commitments.sol";
import {MarketParamsLib} from "../../src/lib/MarketParamsLib.sol";
import {QuantMath} from "../../src/lib/QuantMath.sol";
import {ClaimSource, LayerHeader, MarketParams, PartitionSpec, Receipt} from "../../src/lib/Types.sol";

/// @notice Exposes the calldata-only library functions of opzk externally, for tests.
contract LibHarness {
    function actHash(bytes calldata v) external pure returns (bytes32) {
        return Commitments.actHash(v);
    }

    function traceLeaf(uint32 index, bytes32 a) external pure returns (bytes32) {
        return Commitments.traceLeaf(index, a);
    }

    function receiptLeaf(Receipt calldata r) external pure returns (bytes32) {
        return Commitments.receiptLeaf(r);
    }

    function claimKey(ClaimSource source, uint256 containerId, bytes32 leaf) external pure returns (bytes32) {
        return Commitments.claimKey(source, containerId, leaf);
    }

    function jobId(uint256 chainId, address game, uint256 demandId) external pure returns (bytes32) {
        return Commitments.jobId(chainId, game, demandId);
    }

    function resultHash(bytes32 outputHash, bytes32 traceRoot) external pure returns (bytes32) {
        return Commitments.resultHash(outputHash, traceRoot);
    }

    function weightRowLeaf(uint32 row, int32 bias, bytes calldata weights) external pure returns (bytes32) {
        return Commitments.weightRowLeaf(row, bias, weights);
    }

    function modelId(LayerHeader[] calldata h, bytes32[] calldata roots, PartitionSpec[] calldata p)
        external
        pure
        returns (bytes32)
    {
        return Commitments.modelId(h, roots, p);
    }

    function modelDomain() external pure returns (bytes32) {
        return Commitments.MODEL_DOMAIN;
    }

    function dot(bytes calldata w, bytes calldata x, int32 bias) external pure returns (int256) {
        return QuantMath.dot(w, x, bias);
    }

    function requant(int256 z, uint32 m, uint8 k, uint8 activation) external pure returns (int8) {
        return QuantMath.requant(z, m, k, activation);
    }

    /// @notice Requantizes many accumulators in one call (keeps the 20,000-case vector test fast).
    function requantMany(int256[] calldata z, uint256[] calldata m, uint256[] calldata k, uint256[] calldata activation)
        external
        pure
        returns (int256[] memory out)
    {
        out = new int256[](z.length);
        for (uint256 i; i < z.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            out[i] = QuantMath.requant(z[i], uint32(m[i]), uint8(k[i]), uint8(activation[i]));
        }
    }

    function validate(MarketParams calldata p) external pure {
        MarketParamsLib.validate(p);
    }
}
