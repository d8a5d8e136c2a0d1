// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {QuantMath} from "../../../contracts/src/lib/QuantMath.sol";

/// @title QuantMathHarness
/// @notice TEST ONLY: exposes `QuantMath` so pytest can compare it with `protocol.requant` on many
///         cases in one eth_call (tests/integration/test_requant_differential.py).
contract QuantMathHarness {
    /// @notice The argument arrays differ in length.
    error HarnessLengthMismatch();

    /// @notice `QuantMath.requant(z[i], m[i], k[i], act[i])` for every i.
    function requantMany(int256[] calldata z, uint32[] calldata m, uint8[] calldata k, uint8[] calldata act)
        external
        pure
        returns (int8[] memory out)
    {
        uint256 n = z.length;
        if (m.length != n || k.length != n || act.length != n) revert HarnessLengthMismatch();
        out = new int8[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = QuantMath.requant(z[i], m[i], k[i], act[i]);
        }
    }

    /// @notice `QuantMath.dot(weights[i], x[i], bias[i])` for every i.
    function dotMany(bytes[] calldata weights, bytes[] calldata x, int32[] calldata bias)
        external
        pure
        returns (int256[] memory out)
    {
        uint256 n = weights.length;
        if (x.length != n || bias.length != n) revert HarnessLengthMismatch();
        out = new int256[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = QuantMath.dot(weights[i], x[i], bias[i]);
        }
    }

    /// @notice `QuantMath.dot` of one pair (to observe its length check).
    function dotOne(bytes calldata weights, bytes calldata x, int32 bias) external pure returns (int256) {
        return QuantMath.dot(weights, x, bias);
    }
}
