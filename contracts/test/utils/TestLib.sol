// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Receipt} from "../../src/lib/Types.sol";

/// @title MerkleBuilder
/// @notice Test-side builder of the docs/protocol.md Merkle trees: sorted-pair hashing, leaves in the
///         given order, an odd last node carried up unchanged, siblings listed from the leaf up with
///         carried levels skipped. Independent of the contracts (they only verify proofs).
library MerkleBuilder {
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        require(leaves.length > 0, "MerkleBuilder: empty tree");
        bytes32[] memory level = _copy(leaves);
        uint256 n = level.length;
        while (n > 1) {
            n = _up(level, n);
        }
        return level[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory out) {
        require(index < leaves.length, "MerkleBuilder: index out of range");
        bytes32[] memory level = _copy(leaves);
        bytes32[] memory buf = new bytes32[](256);
        uint256 count;
        uint256 n = level.length;
        while (n > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < n) buf[count++] = level[sibling];
            n = _up(level, n);
            index >>= 1;
        }
        out = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            out[i] = buf[i];
        }
    }

    /// @dev Replaces level[0 .. ceil(n/2)) by the next level up; returns its length.
    function _up(bytes32[] memory level, uint256 n) private pure returns (uint256 m) {
        m = (n + 1) / 2;
        for (uint256 i; i < n / 2; ++i) {
            level[i] = hashPair(level[2 * i], level[2 * i + 1]);
        }
        if (n % 2 == 1) level[m - 1] = level[n - 1];
    }

    function _copy(bytes32[] memory a) private pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i; i < a.length; ++i) {
            b[i] = a[i];
        }
    }
}

/// @title RefMath
/// @notice Independent re-derivation of the protocol's integer rules for tests: floor division
///         instead of arithmetic shifts, naive loops instead of word tricks, memory instead of calldata.
library RefMath {
    function floorDiv(int256 a, int256 b) internal pure returns (int256 q) {
        require(b > 0, "RefMath: b <= 0");
        q = a / b; // truncates toward zero
        if (a % b != 0 && a < 0) q -= 1;
    }

    function requant(int256 z, uint256 m, uint256 k, uint256 activation) internal pure returns (int256 y) {
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 pow = int256(2 ** k);
        int256 half = int256(2 ** (k - 1));
        // forge-lint: disable-next-line(unsafe-typecast)
        y = floorDiv(z * int256(m) + half, pow);
        int256 lo = activation == 1 ? int256(0) : int256(-128);
        if (y < lo) y = lo;
        if (y > 127) y = 127;
    }

    function i8(bytes memory v, uint256 i) internal pure returns (int256) {
        return int256(int8(uint8(v[i])));
    }

    function dot(bytes memory w, bytes memory x, int256 bias) internal pure returns (int256 acc) {
        require(w.length == x.length, "RefMath: length");
        acc = bias;
        for (uint256 i; i < w.length; ++i) {
            acc += i8(w, i) * i8(x, i);
        }
    }

    function actHash(bytes memory v) internal pure returns (bytes32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return keccak256(abi.encodePacked(uint32(v.length), v));
    }

    function traceLeaf(uint256 index, bytes32 a) internal pure returns (bytes32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return keccak256(abi.encodePacked(uint32(index), a));
    }

    function weightRowLeaf(uint256 row, int32 bias, bytes memory w) internal pure returns (bytes32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return keccak256(bytes.concat(keccak256(abi.encodePacked(uint32(row), bias, w))));
    }

    function receiptLeaf(Receipt memory r) internal pure returns (bytes32) {
        return keccak256(abi.encode(r.requestId, r.modelId, r.inputHash, r.outputHash, r.traceRoot, r.node, r.client));
    }

    function resultHash(bytes32 outputHash, bytes32 traceRoot) internal pure returns (bytes32) {
        return keccak256(abi.encode(outputHash, traceRoot));
    }
}
