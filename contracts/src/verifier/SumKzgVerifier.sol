// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProofVerifier, PartitionStatement} from "../interfaces/IProofVerifier.sol";
import {Bls12381} from "./Bls12381.sol";
import {SumKzgLayout} from "./SumKzgLayout.sol";
import {SumKzgProtocol} from "./SumKzgProtocol.sol";
import {SumKzgTranscript} from "./SumKzgTranscript.sol";

/// @title SumKzgVerifier
/// @notice The on-chain verifier of SumKZG-ML v2 (docs/proof-system.md with the zero-knowledge delta
///         docs/proof-system-zk.md, normative): proofs that a sensitive partition of one QLinear
///         layer maps its public input to its public output, against a weight commitment H_W whose
///         well-formedness (int8 weights, int32 bias) was proven here once with
///         `registerCommitment`. Both transcripts bind `block.chainid` and this contract's address.
///         Both proofs are zero knowledge (Libra-masked sumcheck, masked evaluations, Gemini mask);
///         there is no v1 path.
/// @dev Setup: the Ethereum KZG ceremony transcript shipped in npm c-kzg (SETUP_ID is the sha256 of
///      the file); the contract holds G[0] = [1]₁, H0 = [1]₂ and H1 = [τ]₂ (see Bls12381).
contract SumKzgVerifier is IProofVerifier {
    /// @notice sha256 of c-kzg's trusted_setup.txt: the setup every commitment here is made under.
    bytes32 public constant SETUP_ID = 0xd39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7;

    /// @notice Activation code of relu (outputs in [0, 127]); 0 is none (outputs in [−128, 127]).
    uint256 internal constant ACTIVATION_RELU = 1;

    /// @notice Whether commitmentKey(H_W, m, n) was proven well-formed.
    mapping(bytes32 key => bool proven) public wellFormed;

    /// @notice `registrant` proved that `weightCommitment` commits to well-formed m×n weights and bias.
    event CommitmentRegistered(bytes32 indexed weightCommitment, uint32 m, uint32 n, address indexed registrant);

    /// @notice m or n is outside 1..65534, m > 2048 (a weight chunk needs room for its blinding
    ///         column), or the layer needs more than 24 variables.
    error UnsupportedShape(uint256 m, uint256 n);
    /// @notice The proof does not have the length its shape fixes.
    error WrongProofLength(uint256 expected, uint256 actual);
    /// @notice The well-formedness proof did not verify.
    error InvalidRegistrationProof();

    // ---------------------------------------------------------------------------------------------
    // Registration
    // ---------------------------------------------------------------------------------------------

    /// @notice Verifies the well-formedness proof of an m×n weight commitment (§4, Z1–Z10) and
    ///         records it.
    ///         The commitment H_W is keccak256 of the proof's C_W section.
    /// @param m Rows (the layer's output width).
    /// @param n Columns (the layer's input width).
    /// @param proof The registration proof (Z9).
    /// @return weightCommitment H_W, now usable as a sensitive partition's weightCommitment.
    function registerCommitment(uint32 m, uint32 n, bytes calldata proof) external returns (bytes32 weightCommitment) {
        uint256 c = SumKzgLayout.newContext();
        uint256 proofOffset;
        assembly ("memory-safe") {
            proofOffset := proof.offset
        }
        (bool ok, uint256 expected) = SumKzgLayout.layoutRegistration(c, m, n, proofOffset);
        if (!ok) revert UnsupportedShape(m, n);
        if (proof.length != expected) revert WrongProofLength(expected, proof.length);
        weightCommitment = _weightHash(c);
        _absorbRegistrationStatement(c, weightCommitment, m, n);
        if (!SumKzgProtocol.run(c, 0, 0)) revert InvalidRegistrationProof();
        wellFormed[commitmentKey(weightCommitment, m, n)] = true;
        emit CommitmentRegistered(weightCommitment, m, n, msg.sender);
    }

    /// @notice The key under which (H_W, m, n) is recorded: keccak256(abi.encode(H_W, m, n)).
    function commitmentKey(bytes32 weightCommitment, uint32 m, uint32 n) public pure returns (bytes32) {
        return keccak256(abi.encode(weightCommitment, m, n));
    }

    /// @inheritdoc IProofVerifier
    function isWellFormed(bytes32 weightCommitment, bytes32 setupId, bytes calldata layerHeaders)
        external
        view
        returns (bool)
    {
        if (setupId != SETUP_ID) return false;
        (bool ok, uint256 m, uint256 n,,,) = SumKzgLayout.parseHeader(layerHeaders);
        if (!ok) return false;
        (ok,,) = SumKzgLayout.vars(m, n);
        // forge-lint: disable-next-line(unsafe-typecast)
        return ok && wellFormed[commitmentKey(weightCommitment, uint32(m), uint32(n))]; // m, n ≤ 65534
    }

    /// @notice The setup points this contract holds, EIP-2537 encoded: G[0] = [1]₁ (128 bytes),
    ///         H0 = [1]₂ and H1 = [τ]₂ (256 bytes each).
    function setupPoints() external pure returns (bytes memory g0, bytes memory h0, bytes memory h1) {
        g0 = new bytes(128);
        h0 = new bytes(256);
        h1 = new bytes(256);
        uint256 p0;
        uint256 p1;
        uint256 p2;
        assembly ("memory-safe") {
            p0 := add(g0, 0x20)
            p1 := add(h0, 0x20)
            p2 := add(h1, 0x20)
        }
        Bls12381.writeG0(p0);
        Bls12381.writeH0(p1);
        Bls12381.writeH1(p2);
    }

    // ---------------------------------------------------------------------------------------------
    // Inference
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IProofVerifier
    /// @dev Accepts only a partition of exactly one layer whose (H_W, m, n) is registered here, with
    ///      |x| = n, |y| = m and y in [0, 127] for relu; then the proof per §5–§9 and Z1–Z10.
    function verifyPartitionProof(PartitionStatement calldata statement, bytes calldata proof)
        external
        view
        returns (bool)
    {
        uint256 c = _inferenceContext(statement, proof);
        if (c == 0) return false;
        bytes calldata x = statement.input;
        bytes calldata y = statement.output;
        _absorbInferenceStatement(c, statement, x, y);
        uint256 xOffset;
        uint256 yOffset;
        assembly ("memory-safe") {
            xOffset := x.offset
            yOffset := y.offset
        }
        return SumKzgProtocol.run(c, xOffset, yOffset);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev The statement checks that need no proof, then a context laid out for the proof; 0 if the
    ///      statement or the proof's length is not acceptable, or C_W does not hash to H_W.
    function _inferenceContext(PartitionStatement calldata statement, bytes calldata proof)
        internal
        view
        returns (uint256 c)
    {
        (bool ok, uint256 m, uint256 n, uint256 mult, uint256 shift, uint256 act) = _checkStatement(statement);
        if (!ok) return 0;
        c = SumKzgLayout.newContext();
        uint256 proofOffset;
        assembly ("memory-safe") {
            proofOffset := proof.offset
        }
        uint256 expected;
        (ok, expected) = SumKzgLayout.layoutInference(c, m, n, mult, shift, act, proofOffset);
        if (!ok || proof.length != expected || _weightHash(c) != statement.weightCommitment) return 0;
    }

    /// @dev SETUP_ID, exactly one valid layer header, |x| = n, |y| = m, y ≥ 0 for relu, and
    ///      (H_W, m, n) registered.
    function _checkStatement(PartitionStatement calldata statement)
        private
        view
        returns (bool ok, uint256 m, uint256 n, uint256 mult, uint256 shift, uint256 act)
    {
        if (statement.setupId != SETUP_ID) return (false, 0, 0, 0, 0, 0);
        (ok, m, n, mult, shift, act) = SumKzgLayout.parseHeader(statement.layerHeaders);
        ok = ok && statement.input.length == n && statement.output.length == m
            && (act != ACTIVATION_RELU || _allNonNegative(statement.output))
            // forge-lint: disable-next-line(unsafe-typecast)
            && wellFormed[commitmentKey(statement.weightCommitment, uint32(m), uint32(n))]; // m, n ≤ 65534
    }

    /// @dev keccak256 of the C_W section (the chunk commitments of W′, 128 bytes each).
    function _weightHash(uint256 c) internal pure returns (bytes32 h) {
        (uint256 offset, uint256 length) = SumKzgLayout.weightSection(c);
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, offset, length)
            h := keccak256(ptr, length)
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
                // Keep only the bytes inside v.
                if lt(rest, 32) { w := and(w, not(shr(shl(3, rest), not(0)))) }
                acc := or(acc, w)
            }
            ok := iszero(and(acc, 0x8080808080808080808080808080808080808080808080808080808080808080))
        }
    }

    /// @dev Registration statement (tag 0x00): chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ H_W (32)
    ///      ‖ m (4) ‖ n (4).
    function _absorbRegistrationStatement(uint256 c, bytes32 weightCommitment, uint256 m, uint256 n) internal view {
        SumKzgTranscript.init(c, SumKzgTranscript.REGISTRATION_DOMAIN);
        uint256 p = SumKzgTranscript.dataPointer(c);
        bytes32 setupId = SETUP_ID;
        assembly ("memory-safe") {
            mstore(p, chainid())
            mstore(add(p, 32), shl(96, address()))
            mstore(add(p, 52), setupId)
            mstore(add(p, 84), weightCommitment)
            mstore(add(p, 116), shl(224, m))
            mstore(add(p, 120), shl(224, n))
        }
        SumKzgTranscript.absorbBuffer(c, SumKzgTranscript.TAG_STATEMENT, 124);
    }

    /// @dev Inference statement (tag 0x00): chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ modelId (32)
    ///      ‖ partitionIndex (32) ‖ H_W (32) ‖ m (4) ‖ n (4) ‖ M (4) ‖ k (1) ‖ activation (1) ‖ x (n)
    ///      ‖ y (m) ‖ jobId (32).
    function _absorbInferenceStatement(
        uint256 c,
        PartitionStatement calldata statement,
        bytes calldata x,
        bytes calldata y
    ) internal view {
        SumKzgTranscript.init(c, SumKzgTranscript.INFERENCE_DOMAIN);
        uint256 p = SumKzgTranscript.dataPointer(c);
        _writeStatementHead(c, p, statement.modelId, statement.partitionIndex, statement.weightCommitment);
        bytes32 jobId = statement.jobId;
        uint256 len;
        assembly ("memory-safe") {
            let q := add(p, 194)
            calldatacopy(q, x.offset, x.length)
            q := add(q, x.length)
            calldatacopy(q, y.offset, y.length)
            q := add(q, y.length)
            mstore(q, jobId)
            len := sub(add(q, 32), p)
        }
        SumKzgTranscript.absorbBuffer(c, SumKzgTranscript.TAG_STATEMENT, len);
    }

    /// @dev The fixed 194 bytes of the inference statement before x.
    function _writeStatementHead(
        uint256 c,
        uint256 p,
        bytes32 modelId,
        uint256 partitionIndex,
        bytes32 weightCommitment
    ) private view {
        bytes32 setupId = SETUP_ID;
        (uint256 m, uint256 n, uint256 mult, uint256 shift, uint256 act) = SumKzgLayout.layerParams(c);
        assembly ("memory-safe") {
            mstore(p, chainid())
            mstore(add(p, 32), shl(96, address()))
            mstore(add(p, 52), setupId)
            mstore(add(p, 84), modelId)
            mstore(add(p, 116), partitionIndex)
            mstore(add(p, 148), weightCommitment)
            mstore(add(p, 180), shl(224, m))
            mstore(add(p, 184), shl(224, n))
            mstore(add(p, 188), shl(224, mult))
            mstore8(add(p, 192), shift)
            mstore8(add(p, 193), act)
        }
    }
}
