// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Integer semantics of a QLinear layer (DESIGN.md §3, docs/protocol.md)
/// @notice One output element: z = w·x + b, q = floor((z·M + 2^(k-1)) / 2^k), y = clamp(q).
///         Python's `protocol/requant.py` is the reference; tests/vectors/requant.json pins both.
library QuantMath {
    /// @notice Activation code for "no activation": clamp to [-128, 127].
    uint8 internal constant ACTIVATION_NONE = 0;
    /// @notice Activation code for relu: clamp to [0, 127].
    uint8 internal constant ACTIVATION_RELU = 1;

    /// @notice The weight row and the input vector have different lengths.
    error DotLengthMismatch(uint256 weights, uint256 inputs);

    /// @notice Σ_i int8(weights[i]) · int8(x[i]) + bias, exactly (no overflow: |terms| < 2^14 each).
    /// @dev Reads 32 bytes per word and sign-extends each byte; about 30 gas per element.
    function dot(bytes calldata weights, bytes calldata x, int32 bias) internal pure returns (int256 acc) {
        uint256 n = weights.length;
        if (x.length != n) revert DotLengthMismatch(n, x.length);
        acc = int256(bias);
        uint256 wOff;
        uint256 xOff;
        assembly ("memory-safe") {
            wOff := weights.offset
            xOff := x.offset
        }
        uint256 full = n & ~uint256(31);
        uint256 i;
        for (; i < full; i += 32) {
            assembly ("memory-safe") {
                let w := calldataload(add(wOff, i))
                let v := calldataload(add(xOff, i))
                // Unrolled: 32 signed byte products per word (a loop costs ~25 gas more each).
                acc := add(acc, mul(signextend(0, byte(0, w)), signextend(0, byte(0, v))))
                acc := add(acc, mul(signextend(0, byte(1, w)), signextend(0, byte(1, v))))
                acc := add(acc, mul(signextend(0, byte(2, w)), signextend(0, byte(2, v))))
                acc := add(acc, mul(signextend(0, byte(3, w)), signextend(0, byte(3, v))))
                acc := add(acc, mul(signextend(0, byte(4, w)), signextend(0, byte(4, v))))
                acc := add(acc, mul(signextend(0, byte(5, w)), signextend(0, byte(5, v))))
                acc := add(acc, mul(signextend(0, byte(6, w)), signextend(0, byte(6, v))))
                acc := add(acc, mul(signextend(0, byte(7, w)), signextend(0, byte(7, v))))
                acc := add(acc, mul(signextend(0, byte(8, w)), signextend(0, byte(8, v))))
                acc := add(acc, mul(signextend(0, byte(9, w)), signextend(0, byte(9, v))))
                acc := add(acc, mul(signextend(0, byte(10, w)), signextend(0, byte(10, v))))
                acc := add(acc, mul(signextend(0, byte(11, w)), signextend(0, byte(11, v))))
                acc := add(acc, mul(signextend(0, byte(12, w)), signextend(0, byte(12, v))))
                acc := add(acc, mul(signextend(0, byte(13, w)), signextend(0, byte(13, v))))
                acc := add(acc, mul(signextend(0, byte(14, w)), signextend(0, byte(14, v))))
                acc := add(acc, mul(signextend(0, byte(15, w)), signextend(0, byte(15, v))))
                acc := add(acc, mul(signextend(0, byte(16, w)), signextend(0, byte(16, v))))
                acc := add(acc, mul(signextend(0, byte(17, w)), signextend(0, byte(17, v))))
                acc := add(acc, mul(signextend(0, byte(18, w)), signextend(0, byte(18, v))))
                acc := add(acc, mul(signextend(0, byte(19, w)), signextend(0, byte(19, v))))
                acc := add(acc, mul(signextend(0, byte(20, w)), signextend(0, byte(20, v))))
                acc := add(acc, mul(signextend(0, byte(21, w)), signextend(0, byte(21, v))))
                acc := add(acc, mul(signextend(0, byte(22, w)), signextend(0, byte(22, v))))
                acc := add(acc, mul(signextend(0, byte(23, w)), signextend(0, byte(23, v))))
                acc := add(acc, mul(signextend(0, byte(24, w)), signextend(0, byte(24, v))))
                acc := add(acc, mul(signextend(0, byte(25, w)), signextend(0, byte(25, v))))
                acc := add(acc, mul(signextend(0, byte(26, w)), signextend(0, byte(26, v))))
                acc := add(acc, mul(signextend(0, byte(27, w)), signextend(0, byte(27, v))))
                acc := add(acc, mul(signextend(0, byte(28, w)), signextend(0, byte(28, v))))
                acc := add(acc, mul(signextend(0, byte(29, w)), signextend(0, byte(29, v))))
                acc := add(acc, mul(signextend(0, byte(30, w)), signextend(0, byte(30, v))))
                acc := add(acc, mul(signextend(0, byte(31, w)), signextend(0, byte(31, v))))
            }
        }
        for (; i < n; ++i) {
            acc += int256(int8(uint8(weights[i]))) * int256(int8(uint8(x[i])));
        }
    }

    /// @notice Requantizes accumulator `z` with multiplier `m`, shift `k` and activation `activation`.
    /// @dev `>>` on a signed integer is an arithmetic shift in Solidity (rounds toward -infinity),
    ///      which is the floor the spec asks for. int256 cannot overflow for |z| < 2^200.
    function requant(int256 z, uint32 m, uint8 k, uint8 activation) internal pure returns (int8) {
        // forge-lint: disable-next-line(incorrect-shift)
        int256 q = (z * int256(uint256(m)) + int256(uint256(1) << (k - 1))) >> k;
        int256 lo = activation == ACTIVATION_RELU ? int256(0) : int256(-128);
        if (q < lo) q = lo;
        if (q > 127) q = 127;
        // forge-lint: disable-next-line(unsafe-typecast)
        return int8(q); // safe: q was clamped into [-128, 127] above
    }
}
