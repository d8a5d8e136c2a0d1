// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProofVerifier, PartitionStatement} from "../interfaces/IProofVerifier.sol";
import {CTX_ELL} from "./SumKzgLayout.sol";
import {SumKzgProtocol} from "./SumKzgProtocol.sol";
import {SumKzgRelations} from "./SumKzgRelations.sol";
import {
    SK_P_ACT,
    SK_P_LIMB1,
    SK_P_P,
    SK_P_R1,
    SK_P_V,
    SK_P_X,
    SK_P_Y,
    StackHeaders,
    SumKzgStackLayout
} from "./SumKzgStackLayout.sol";
import {SumKzgStackOpening} from "./SumKzgStackOpening.sol";
import {SumKzgStackRelations} from "./SumKzgStackRelations.sol";
import {SumKzgTranscript} from "./SumKzgTranscript.sol";
import {SumKzgVerifier} from "./SumKzgVerifier.sol";

/// @title SumKzgStackVerifier
/// @notice The on-chain verifier of SumKZG-ML v2-stack (docs/proof-system-stack.md, normative): one
///         zero-knowledge proof that a sensitive partition of two QLinear layers maps its public input
///         x to its public output y through a hidden intermediate activation. The two layers are
///         registered with the unchanged single-layer registration proof of `base` as the matrices
///         P = [W1; 0] ((m1 + 4) × n1) and V = [W2ᵀ; bias bytes] ((m1 + 4) × m2); the partition's
///         weight commitment is H_S = keccak256(H_P ‖ H_V), recorded here with `recordStack` once
///         both are registered. The transcript (domain SUMKZG-ML/v2/stack2) binds `block.chainid`
///         and this contract's address.
/// @dev The shared proof tail (round structure, sumcheck, Libra, four-point opening) reuses the
///      single-layer libraries over a stack context (SumKzgStackLayout).
contract SumKzgStackVerifier is IProofVerifier {
    /// @notice sha256 of c-kzg's trusted_setup.txt: the setup every commitment here is made under.
    bytes32 public constant SETUP_ID = 0xd39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7;
    /// @notice keccak256("SUMKZG-ML/v2/stack2"): the initial transcript state.
    bytes32 internal constant STACK_DOMAIN = keccak256("SUMKZG-ML/v2/stack2");
    /// @notice Activation code of relu (outputs in [0, 127]).
    uint256 internal constant ACTIVATION_RELU = 1;

    /// @notice The single-layer verifier that holds the registration records of P and V.
    SumKzgVerifier public immutable base;

    /// @notice Whether stackKey(H_S, m1, n1, m2) was recorded (P and V registered in `base`).
    mapping(bytes32 key => bool isRecorded) public recorded;

    /// @notice The stack H_S = keccak256(hP ‖ hV) was recorded for a shape.
    event StackRecorded(bytes32 indexed weightCommitment, bytes32 hP, bytes32 hV);

    /// @notice P (hP, (m1 + 4) × n1) or V (hV, (m1 + 4) × m2) is not registered in `base`.
    error StackNotRegistered(bytes32 hP, bytes32 hV);
    /// @notice The layer headers are not two valid QLinear layers of a supported stack.
    error UnsupportedStack();

    constructor(SumKzgVerifier base_) {
        base = base_;
    }

    // ---------------------------------------------------------------------------------------------
    // Records
    // ---------------------------------------------------------------------------------------------

    /// @notice Records the stack of the registered P (H_P = hP) and V (H_V = hV) for the two layers of
    ///         `layerHeaders`; recording again succeeds.
    /// @param hP The registered commitment of P = [W1; 0] ((m1 + 4) × n1).
    /// @param hV The registered commitment of V ((m1 + 4) × m2: W2ᵀ and the bias bytes).
    /// @param layerHeaders abi.encode(LayerHeader[]) of the partition's two layers.
    /// @return weightCommitment H_S = keccak256(hP ‖ hV), the partition's weight commitment.
    function recordStack(bytes32 hP, bytes32 hV, bytes calldata layerHeaders)
        external
        returns (bytes32 weightCommitment)
    {
        (bool ok, StackHeaders memory h) = SumKzgStackLayout.parseHeaders(layerHeaders);
        if (!ok) revert UnsupportedStack();
        // forge-lint: disable-start(unsafe-typecast)
        uint32 rows = uint32(h.m1 + SumKzgStackLayout.EXTRA_ROWS); // ≤ 2048
        if (
            !base.wellFormed(base.commitmentKey(hP, rows, uint32(h.n1)))
                || !base.wellFormed(base.commitmentKey(hV, rows, uint32(h.m2)))
        ) revert StackNotRegistered(hP, hV);
        // forge-lint: disable-end(unsafe-typecast)
        weightCommitment = stackCommitment(hP, hV);
        recorded[stackKey(weightCommitment, h.m1, h.n1, h.m2)] = true;
        emit StackRecorded(weightCommitment, hP, hV);
    }

    /// @notice H_S = keccak256(H_P ‖ H_V) (S1).
    function stackCommitment(bytes32 hP, bytes32 hV) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(hP, hV));
    }

    /// @notice The key under which a stack is recorded: keccak256(abi.encode(H_S, m1, n1, m2)).
    function stackKey(bytes32 weightCommitment, uint256 m1, uint256 n1, uint256 m2) public pure returns (bytes32) {
        return keccak256(abi.encode(weightCommitment, m1, n1, m2));
    }

    /// @inheritdoc IProofVerifier
    function isWellFormed(bytes32 weightCommitment, bytes32 setupId, bytes calldata layerHeaders)
        external
        view
        returns (bool)
    {
        if (setupId != SETUP_ID) return false;
        (bool ok, StackHeaders memory h) = SumKzgStackLayout.parseHeaders(layerHeaders);
        return ok && recorded[stackKey(weightCommitment, h.m1, h.n1, h.m2)];
    }

    // ---------------------------------------------------------------------------------------------
    // Proofs
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IProofVerifier
    /// @dev Accepts only a partition of exactly two layers whose stack is recorded here, with
    ///      |x| = n1, |y| = m2 and y in [0, 127] for a relu layer 2; then the proof per S6–S8. Returns
    ///      false on anything malformed; reverts only with NotEnoughGas (Bls12381).
    function verifyPartitionProof(PartitionStatement calldata statement, bytes calldata proof)
        external
        view
        returns (bool)
    {
        uint256 s = _context(statement, proof);
        if (s == 0) return false;
        _absorbStatement(s, statement);
        uint256 c = SumKzgStackLayout.ctx(s);
        if (!SumKzgProtocol.canonical(c) || !_finite(_get(s, SK_P_R1) + 128) || !_finite(_get(s, SK_P_ACT))) {
            return false;
        }
        if (!SumKzgProtocol.replay(c) || !SumKzgStackRelations.finalCheck(s)) return false;
        if (!SumKzgRelations.libraCheck(c, _get(c, CTX_ELL))) return false;
        return SumKzgStackOpening.verifyOpening(s);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev The statement checks, then a stack context laid out for the proof; 0 if the statement or
    ///      the proof's length is not acceptable, or keccak256(H_P ‖ H_V) is not the statement's
    ///      weight commitment (H_P, H_V the hashes of the proof's C_P and C_V).
    function _context(PartitionStatement calldata statement, bytes calldata proof) private view returns (uint256 s) {
        if (statement.setupId != SETUP_ID) return 0;
        (bool ok, StackHeaders memory h) = SumKzgStackLayout.parseHeaders(statement.layerHeaders);
        bytes calldata x = statement.input;
        bytes calldata y = statement.output;
        if (!ok || x.length != h.n1 || y.length != h.m2) return 0;
        if (h.act2 == ACTIVATION_RELU && !_allNonNegative(y)) return 0;
        if (!recorded[stackKey(statement.weightCommitment, h.m1, h.n1, h.m2)]) return 0;
        s = SumKzgStackLayout.newContext();
        uint256 proofOffset;
        uint256 xOffset;
        uint256 yOffset;
        assembly ("memory-safe") {
            proofOffset := proof.offset
            xOffset := x.offset
            yOffset := y.offset
        }
        if (SumKzgStackLayout.layout(s, h, proofOffset) != proof.length) return 0;
        _set(s, SK_P_X, xOffset);
        _set(s, SK_P_Y, yOffset);
        (bytes32 hP, bytes32 hV) = _weightHashes(s);
        if (stackCommitment(hP, hV) != statement.weightCommitment) return 0;
    }

    /// @dev keccak256 of the C_P and of the C_V section (128 bytes per chunk commitment; C_V ends where
    ///      C_Limb1 starts).
    function _weightHashes(uint256 s) private pure returns (bytes32 hP, bytes32 hV) {
        uint256 pP = _get(s, SK_P_P);
        uint256 pV = _get(s, SK_P_V);
        uint256 end = _get(s, SK_P_LIMB1);
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, pP, sub(pV, pP))
            hP := keccak256(ptr, sub(pV, pP))
            calldatacopy(ptr, pV, sub(end, pV))
            hV := keccak256(ptr, sub(end, pV))
        }
    }

    /// @dev Statement (tag 0x00, S6): chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ modelId (32) ‖
    ///      partitionIndex (32) ‖ H_P (32) ‖ H_V (32) ‖ m1 (4) ‖ n1 (4) ‖ M1 (4) ‖ k1 (1) ‖ act1 (1) ‖
    ///      m2 (4) ‖ M2 (4) ‖ k2 (1) ‖ act2 (1) ‖ x (n1) ‖ y (m2) ‖ jobId (32).
    function _absorbStatement(uint256 s, PartitionStatement calldata statement) private view {
        uint256 c = SumKzgStackLayout.ctx(s);
        (bytes32 hP, bytes32 hV) = _weightHashes(s);
        SumKzgTranscript.init(c, STACK_DOMAIN);
        uint256 p = SumKzgTranscript.dataPointer(c);
        _writeHead(s, p, statement.modelId, statement.partitionIndex, hP, hV);
        bytes calldata x = statement.input;
        bytes calldata y = statement.output;
        bytes32 jobId = statement.jobId;
        uint256 len;
        assembly ("memory-safe") {
            let q := add(p, 236)
            calldatacopy(q, x.offset, x.length)
            q := add(q, x.length)
            calldatacopy(q, y.offset, y.length)
            q := add(q, y.length)
            mstore(q, jobId)
            len := sub(add(q, 32), p)
        }
        SumKzgTranscript.absorbBuffer(c, SumKzgTranscript.TAG_STATEMENT, len);
    }

    /// @dev The fixed 236 bytes of the statement before x.
    function _writeHead(uint256 s, uint256 p, bytes32 modelId, uint256 partitionIndex, bytes32 hP, bytes32 hV)
        private
        view
    {
        bytes32 setupId = SETUP_ID;
        assembly ("memory-safe") {
            mstore(p, chainid())
            mstore(add(p, 32), shl(96, address()))
            mstore(add(p, 52), setupId)
            mstore(add(p, 84), modelId)
            mstore(add(p, 116), partitionIndex)
            mstore(add(p, 148), hP)
            mstore(add(p, 180), hV)
            mstore(add(p, 212), shl(224, mload(s))) // m1 (SK_M1)
            mstore(add(p, 216), shl(224, mload(add(s, 0x20)))) // n1
            mstore(add(p, 220), shl(224, mload(add(s, 0x40)))) // M1
            mstore8(add(p, 224), mload(add(s, 0x60))) // k1
            mstore8(add(p, 225), mload(add(s, 0x80))) // act1
            mstore(add(p, 226), shl(224, mload(add(s, 0xa0)))) // m2
            mstore(add(p, 230), shl(224, mload(add(s, 0xc0)))) // M2
            mstore8(add(p, 234), mload(add(s, 0xe0))) // k2
            mstore8(add(p, 235), mload(add(s, 0x100))) // act2
        }
    }

    /// @dev Whether every byte of `v` is below 0x80 (a non-negative int8).
    function _allNonNegative(bytes calldata v) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let acc := 0
            let end := add(v.offset, v.length)
            for { let o := v.offset } lt(o, end) { o := add(o, 0x20) } {
                let w := calldataload(o)
                let rest := sub(end, o)
                if lt(rest, 32) { w := and(w, not(shr(shl(3, rest), not(0)))) }
                acc := or(acc, w)
            }
            ok := iszero(and(acc, 0x8080808080808080808080808080808080808080808080808080808080808080))
        }
    }

    /// @dev Whether the 128-byte point encoding at calldata `o` is not the point at infinity.
    function _finite(uint256 o) private pure returns (bool ok) {
        assembly ("memory-safe") {
            ok := iszero(
                iszero(
                    or(
                        or(calldataload(o), calldataload(add(o, 0x20))),
                        or(calldataload(add(o, 0x40)), calldataload(add(o, 0x60)))
                    )
                )
            )
        }
    }

    function _get(uint256 base_, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(base_, slot))
        }
    }

    function _set(uint256 base_, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(base_, slot), v)
        }
    }
}
