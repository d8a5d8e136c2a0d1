// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MerkleBuilder} from "./utils/TestLib.sol";
import {Test} from "./utils/Test.sol";

/// @notice The test-side Merkle builder (docs/protocol.md) against OpenZeppelin's MerkleProof, which
///         the contracts use to verify.
contract MerkleTest is Test {
    function _leaves(uint256 seed, uint256 n) internal pure returns (bytes32[] memory l) {
        l = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            l[i] = keccak256(abi.encode(seed, i));
        }
    }

    function _hp(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return MerkleBuilder.hashPair(a, b);
    }

    function test_smallTreesByHand() public pure {
        bytes32[] memory l = _leaves(1, 5);
        bytes32[] memory one = new bytes32[](1);
        one[0] = l[0];
        assertEq(MerkleBuilder.root(one), l[0]);
        assertEq(MerkleBuilder.proof(one, 0).length, 0);

        bytes32 h01 = _hp(l[0], l[1]);
        bytes32 h23 = _hp(l[2], l[3]);
        // 3 leaves: the third is carried up.
        bytes32[] memory three = new bytes32[](3);
        (three[0], three[1], three[2]) = (l[0], l[1], l[2]);
        assertEq(MerkleBuilder.root(three), _hp(h01, l[2]));
        bytes32[] memory p = MerkleBuilder.proof(three, 2);
        assertEq(p.length, 1);
        assertEq(p[0], h01);
        // 5 leaves: [h01, h23, l4] -> [h(h01,h23), l4] -> root; leaf 4's proof skips two carried levels.
        assertEq(MerkleBuilder.root(l), _hp(_hp(h01, h23), l[4]));
        p = MerkleBuilder.proof(l, 4);
        assertEq(p.length, 1);
        assertEq(p[0], _hp(h01, h23));
        p = MerkleBuilder.proof(l, 1);
        assertEq(p.length, 3);
        assertEq(p[0], l[0]);
        assertEq(p[1], h23);
        assertEq(p[2], l[4]);
    }

    function test_pairIsSorted() public pure {
        bytes32 a = bytes32(uint256(1));
        bytes32 b = bytes32(uint256(2));
        assertEq(_hp(a, b), _hp(b, a));
        assertEq(_hp(a, b), keccak256(abi.encodePacked(a, b)));
    }

    /// @notice Every proof the builder makes verifies with OpenZeppelin against the builder's root.
    function testFuzz_roundTrip(uint256 seed, uint256 n, uint256 index) public pure {
        n = bound(n, 1, 70);
        index = bound(index, 0, n - 1);
        bytes32[] memory l = _leaves(seed, n);
        bytes32 root = MerkleBuilder.root(l);
        bytes32[] memory p = MerkleBuilder.proof(l, index);
        assertTrue(MerkleProof.verify(p, root, l[index]));
        assertEq(MerkleProof.processProof(p, l[index]), root);
        // Depth is at most ceil(log2 n).
        uint256 depth;
        while ((uint256(1) << depth) < n) ++depth;
        assertLe(p.length, depth);
        // A different leaf does not verify with this proof.
        assertFalse(MerkleProof.verify(p, root, keccak256(abi.encode("other", seed))));
        if (p.length > 0) {
            p[0] = bytes32(uint256(p[0]) ^ 1);
            assertFalse(MerkleProof.verify(p, root, l[index]));
        }
    }

    function test_allProofsOfManySizes() public pure {
        for (uint256 n = 1; n <= 33; ++n) {
            bytes32[] memory l = _leaves(n, n);
            bytes32 root = MerkleBuilder.root(l);
            for (uint256 i; i < n; ++i) {
                assertTrue(MerkleProof.verify(MerkleBuilder.proof(l, i), root, l[i]));
            }
        }
    }
}
