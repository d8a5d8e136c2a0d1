// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {QuantMath} from "../src/lib/QuantMath.sol";
import {LibHarness} from "./utils/Harness.sol";
import {RefMath} from "./utils/TestLib.sol";
import {Test} from "./utils/Test.sol";

contract QuantMathTest is Test {
    LibHarness internal h;

    function setUp() public {
        h = new LibHarness();
    }

    function _bytes(uint256 seed, uint256 n) internal pure returns (bytes memory b) {
        b = new bytes(n);
        for (uint256 i; i < n; ++i) {
            b[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
        }
    }

    // ------------------------------------------------------------------ requant

    function test_requant_floorNotTruncation() public view {
        // (z*M + 2^(k-1)) / 2^k with k = 1, M = 1: (z + 1) / 2, floored.
        assertEq(int256(h.requant(-3, 1, 1, 0)), -1); // -2/2
        assertEq(int256(h.requant(-2, 1, 1, 0)), -1); // -1/2 -> -1 (truncation would give 0)
        assertEq(int256(h.requant(-1, 1, 1, 0)), 0);
        assertEq(int256(h.requant(0, 1, 1, 0)), 0);
        assertEq(int256(h.requant(1, 1, 1, 0)), 1); // 2/2
        assertEq(int256(h.requant(2, 1, 1, 0)), 1); // 3/2
        assertEq(int256(h.requant(-6, 1, 2, 0)), -1); // (-6 + 2)/4 = -1
        assertEq(int256(h.requant(-7, 1, 2, 0)), -2); // -5/4 -> -2
    }

    function test_requant_clamps() public view {
        assertEq(int256(h.requant(1000, 1, 1, 0)), 127);
        assertEq(int256(h.requant(-1000, 1, 1, 0)), -128);
        assertEq(int256(h.requant(-1000, 1, 1, 1)), 0);
        assertEq(int256(h.requant(1000, 1, 1, 1)), 127);
        assertEq(int256(h.requant(-5, 1, 1, 1)), 0);
        assertEq(int256(h.requant(60, 1, 1, 1)), 30);
    }

    function test_requant_extremes() public view {
        int256 zMax = int256(2 ** 31) - 1;
        uint32 mMax = uint32(2 ** 31 - 1);
        assertEq(int256(h.requant(zMax, mMax, 62, 0)), RefMath.requant(zMax, mMax, 62, 0));
        assertEq(int256(h.requant(-zMax, mMax, 62, 0)), RefMath.requant(-zMax, mMax, 62, 0));
        assertEq(int256(h.requant(-zMax, mMax, 61, 0)), RefMath.requant(-zMax, mMax, 61, 0));
        assertEq(int256(h.requant(zMax, 0, 1, 0)), 0);
        assertEq(int256(h.requant(-zMax, mMax, 1, 1)), 0);
    }

    /// @notice requant equals floor division for every z in (-2^31, 2^31), M < 2^31, k in 1..62.
    function testFuzz_requant_matchesFloorDivision(int256 z, uint32 m, uint8 k, bool relu) public view {
        z = bound(z, -(int256(2 ** 31) - 1), int256(2 ** 31) - 1);
        m = uint32(bound(m, 0, 2 ** 31 - 1));
        k = uint8(bound(k, 1, 62));
        uint8 act = relu ? 1 : 0;
        assertEq(int256(h.requant(z, m, k, act)), RefMath.requant(z, m, k, act));
    }

    /// @notice Same, with the shift chosen so that outputs land inside the clamp range often.
    function testFuzz_requant_unsaturated(int256 z, uint32 m, bool relu) public view {
        z = bound(z, -(int256(2 ** 31) - 1), int256(2 ** 31) - 1);
        m = uint32(bound(m, 1, 2 ** 31 - 1));
        // |z*M| < 2^62; divide by about 2^55 so |q| stays near 2^7.
        uint8 k = 55;
        uint8 act = relu ? 1 : 0;
        assertEq(int256(h.requant(z, m, k, act)), RefMath.requant(z, m, k, act));
    }

    // ------------------------------------------------------------------ dot

    function test_dot_known() public view {
        assertEq(h.dot(hex"", hex"", -5), -5);
        assertEq(h.dot(hex"80", hex"80", 0), 16384); // -128 * -128
        assertEq(h.dot(hex"7f", hex"80", 0), -16256);
        assertEq(h.dot(hex"ff02", hex"0303", 1), 4); // -3 + 6 + 1
    }

    function test_dot_fullWordOfExtremes() public view {
        bytes memory w = new bytes(64);
        bytes memory x = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            w[i] = 0x80;
            x[i] = i % 2 == 0 ? bytes1(0x80) : bytes1(0x7f);
        }
        assertEq(h.dot(w, x, type(int32).min), RefMath.dot(w, x, type(int32).min));
    }

    function test_revert_DotLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(QuantMath.DotLengthMismatch.selector, 3, 2));
        h.dot(hex"010203", hex"0102", 0);
        vm.expectRevert(abi.encodeWithSelector(QuantMath.DotLengthMismatch.selector, 0, 1));
        h.dot(hex"", hex"01", 0);
    }

    /// @notice dot equals a naive loop for random int8 strings of random length 0..100.
    function testFuzz_dot_matchesNaive(uint256 seed, uint256 len, int32 bias) public view {
        len = bound(len, 0, 100);
        bytes memory w = _bytes(seed, len);
        bytes memory x = _bytes(~seed, len);
        assertEq(h.dot(w, x, bias), RefMath.dot(w, x, bias));
    }

    /// @notice Same with the fuzzer's own byte strings (truncated to a common length).
    function testFuzz_dot_rawBytes(bytes memory w, bytes memory x, int32 bias) public view {
        uint256 n = w.length < x.length ? w.length : x.length;
        if (n > 100) n = 100;
        assembly ("memory-safe") {
            mstore(w, n)
            mstore(x, n)
        }
        assertEq(h.dot(w, x, bias), RefMath.dot(w, x, bias));
    }
}
