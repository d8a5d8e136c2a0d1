// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title Arithmetic in F = Fr(BLS12-381) and multilinear helpers
/// @notice Elements are uint256 below R. Tables and points live in memory (word arrays); a point
///         `w` of `mu` variables is `mu` consecutive words, variable v at `w + 32·(v−1)`.
library FieldMath {
    /// @notice The scalar field modulus r.
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @notice 2^256 mod r (a challenge is (h1·2^256 + h2) mod r).
    uint256 internal constant TWO_256 = 0x1824b159acc5056f998c4fefecbc4ff55884b7fa0003480200000001fffffffe;
    /// @notice The MODEXP precompile.
    uint256 internal constant MODEXP = 0x05;

    /// @notice 1/x by Fermat (x^(r−2)) with the MODEXP precompile; 0 for x = 0 (callers reject that)
    ///         and on a precompile failure.
    function inverse(uint256 x) internal view returns (uint256 y) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), 0x20)
            mstore(add(ptr, 0x40), 0x20)
            mstore(add(ptr, 0x60), x)
            mstore(add(ptr, 0x80), sub(R, 2))
            mstore(add(ptr, 0xa0), R)
            let ok := staticcall(gas(), MODEXP, ptr, 0xc0, ptr, 0x20)
            // (Yul evaluates arguments right to left: read returndatasize only after the call.)
            if and(ok, eq(returndatasize(), 0x20)) { y := mload(ptr) }
        }
    }

    /// @notice eq(a, b) = Π_v (a_v·b_v + (1−a_v)(1−b_v)) over `mu` variables.
    function eqPoints(uint256 a, uint256 b, uint256 mu) internal pure returns (uint256 e) {
        assembly ("memory-safe") {
            let r := R
            e := 1
            for { let i := 0 } lt(i, mu) { i := add(i, 1) } {
                let x := mload(add(a, shl(5, i)))
                let y := mload(add(b, shl(5, i)))
                // x·y + (1−x)(1−y) = 1 − x − y + 2xy
                let xy := mulmod(x, y, r)
                let t := addmod(addmod(1, addmod(xy, xy, r), r), sub(r, addmod(x, y, r)), r)
                e := mulmod(e, t, r)
            }
        }
    }

    /// @notice Π_v (1 − w_v) over `mu` variables: eq(w, 0).
    function eqZero(uint256 w, uint256 mu) internal pure returns (uint256 e) {
        assembly ("memory-safe") {
            let r := R
            e := 1
            for { let i := 0 } lt(i, mu) { i := add(i, 1) } {
                e := mulmod(e, addmod(1, sub(r, mload(add(w, shl(5, i)))), r), r)
            }
        }
    }

    /// @notice Writes the table eq(w, f) for f < 2^mu at memory `dst` (2^mu words), built by doubling:
    ///         bit v−1 of f is variable v.
    function eqTable(uint256 dst, uint256 w, uint256 mu) internal pure {
        assembly ("memory-safe") {
            switch mu
            case 0 { mstore(dst, 1) }
            default {
                let r := R
                let w0 := mload(w)
                mstore(dst, addmod(1, sub(r, w0), r))
                mstore(add(dst, 0x20), w0)
                // Then double: entry f gets f + 2^v by multiplying by w_v (two entries per step).
                for { let v := 1 } lt(v, mu) { v := add(v, 1) } {
                    let wv := mload(add(w, shl(5, v)))
                    let step := shl(v, 0x20)
                    for { let p := dst } lt(p, add(dst, step)) { p := add(p, 0x40) } {
                        let t := mload(p)
                        let hi := mulmod(t, wv, r)
                        mstore(add(p, step), hi)
                        mstore(p, addmod(t, sub(r, hi), r))
                        let q := add(p, 0x20)
                        t := mload(q)
                        hi := mulmod(t, wv, r)
                        mstore(add(q, step), hi)
                        mstore(q, addmod(t, sub(r, hi), r))
                    }
                }
            }
        }
    }

    /// @notice eq(w, f) for one index f < 2^mu, in O(mu).
    function eqIndex(uint256 w, uint256 mu, uint256 f) internal pure returns (uint256 e) {
        assembly ("memory-safe") {
            let r := R
            e := 1
            for { let i := 0 } lt(i, mu) { i := add(i, 1) } {
                let x := mload(add(w, shl(5, i)))
                switch and(shr(i, f), 1)
                case 1 { e := mulmod(e, x, r) }
                default { e := mulmod(e, addmod(1, sub(r, x), r), r) }
            }
        }
    }

    /// @notice Σ_{f<n} eq(w, f) over `mu` variables (the MLE of the indicator of [0, n)), in O(mu):
    ///         walking the bits of n from the top, every 1 bit adds the prefix times (1 − w_v).
    function eqPrefixSum(uint256 w, uint256 mu, uint256 n) internal pure returns (uint256 s) {
        assembly ("memory-safe") {
            let r := R
            let prefix := 1
            for { let i := mu } gt(i, 0) {} {
                i := sub(i, 1)
                let x := mload(add(w, shl(5, i)))
                switch and(shr(i, n), 1)
                case 1 {
                    s := addmod(s, mulmod(prefix, addmod(1, sub(r, x), r), r), r)
                    prefix := mulmod(prefix, x, r)
                }
                default { prefix := mulmod(prefix, addmod(1, sub(r, x), r), r) }
            }
        }
    }
}
