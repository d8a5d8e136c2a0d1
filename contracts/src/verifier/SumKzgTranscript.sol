// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CTX_SIZE, CTX_STATE} from "./SumKzgLayout.sol";

/// @title The Fiat–Shamir transcript of SumKZG-ML v2 (docs/proof-system.md §6, docs/proof-system-zk.md Z0, Z8)
/// @notice A Keccak-256 sponge with a 32-byte state, kept in the context at `c + CTX_STATE`; the
///         scratch memory after the context is the hashing buffer.
///         * init(domain): state = keccak256(domain);
///         * absorb(tag, data): state = keccak256(state ‖ tag ‖ uint32_be(len(data)) ‖ data);
///         * challenge(): h1 = keccak256(state ‖ 0xF1), h2 = keccak256(state ‖ 0xF2),
///           state = keccak256(state ‖ 0xF0), returns (h1·2^256 + h2) mod r.
/// @dev The verifier absorbs the statement through this library; SumKzgProtocol.replay inlines the
///      same absorb and challenge in one assembly block (for gas) for everything after it. The tests
///      hold both to the Python transcript (golden vectors, and every challenge of the proof vectors).
library SumKzgTranscript {
    /// @notice keccak256("SUMKZG-ML/v2/inference"): the initial state of an inference transcript.
    bytes32 internal constant INFERENCE_DOMAIN = keccak256("SUMKZG-ML/v2/inference");
    /// @notice keccak256("SUMKZG-ML/v2/registration"): the initial state of a registration transcript.
    bytes32 internal constant REGISTRATION_DOMAIN = keccak256("SUMKZG-ML/v2/registration");

    /// @notice Tag of the statement bytes.
    uint8 internal constant TAG_STATEMENT = 0x00;
    /// @notice Tag of the round-1 commitments.
    uint8 internal constant TAG_ROUND1 = 0x01;
    /// @notice Tag of the round-2 commitments.
    uint8 internal constant TAG_ROUND2 = 0x02;
    /// @notice Tag of one sumcheck round (four scalars).
    uint8 internal constant TAG_SUMCHECK = 0x03;
    /// @notice Tag of the final evaluations.
    uint8 internal constant TAG_EVALS = 0x04;
    /// @notice Tag of the Gemini folds.
    uint8 internal constant TAG_FOLDS = 0x05;
    /// @notice Tag of the fold evaluations.
    uint8 internal constant TAG_FOLD_EVALS = 0x06;
    /// @notice Tag of the quotient witnesses W_0..W_3.
    uint8 internal constant TAG_WITNESSES = 0x07;
    /// @notice Tag of the Libra grand-sum commitment C_A.
    uint8 internal constant TAG_GRAND_SUM = 0x08;
    /// @notice Tag of the Libra quotient commitment C_Q.
    uint8 internal constant TAG_LIBRA_QUOTIENT = 0x09;

    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 private constant TWO_256 = 0x1824b159acc5056f998c4fefecbc4ff55884b7fa0003480200000001fffffffe;

    /// @notice Sets the state to `domainHash` (keccak256 of the domain string).
    function init(uint256 c, bytes32 domainHash) internal pure {
        assembly ("memory-safe") {
            mstore(add(c, CTX_STATE), domainHash)
        }
    }

    /// @notice The hashing buffer (scratch after the context); a caller writes absorbed data at
    ///         `dataPointer(c)` and then calls `absorbBuffer`.
    function dataPointer(uint256 c) internal pure returns (uint256 ptr) {
        ptr = c + CTX_SIZE + 37;
    }

    /// @notice Absorbs the `len` bytes already written at `dataPointer(c)` under `tag`.
    function absorbBuffer(uint256 c, uint8 tag, uint256 len) internal pure {
        assembly ("memory-safe") {
            let buf := add(c, CTX_SIZE)
            // The 32-byte length word would overwrite the first data bytes: save and restore them.
            let first := mload(add(buf, 37))
            mstore(buf, mload(add(c, CTX_STATE)))
            mstore8(add(buf, 32), tag)
            mstore(add(buf, 33), shl(224, len))
            mstore(add(buf, 37), first)
            mstore(add(c, CTX_STATE), keccak256(buf, add(37, len)))
        }
    }

    /// @notice Absorbs `len` bytes of calldata at `offset` under `tag`.
    function absorbCalldata(uint256 c, uint8 tag, uint256 offset, uint256 len) internal pure {
        assembly ("memory-safe") {
            let buf := add(c, CTX_SIZE)
            mstore(buf, mload(add(c, CTX_STATE)))
            mstore8(add(buf, 32), tag)
            mstore(add(buf, 33), shl(224, len))
            calldatacopy(add(buf, 37), offset, len)
            mstore(add(c, CTX_STATE), keccak256(buf, add(37, len)))
        }
    }

    /// @notice Draws a challenge in F.
    function challenge(uint256 c) internal pure returns (uint256 x) {
        assembly ("memory-safe") {
            let buf := add(c, CTX_SIZE)
            mstore(buf, mload(add(c, CTX_STATE)))
            mstore8(add(buf, 32), 0xf1)
            let h1 := keccak256(buf, 33)
            mstore8(add(buf, 32), 0xf2)
            let h2 := keccak256(buf, 33)
            mstore8(add(buf, 32), 0xf0)
            mstore(add(c, CTX_STATE), keccak256(buf, 33))
            x := addmod(mulmod(h1, TWO_256, R), h2, R)
        }
    }
}
