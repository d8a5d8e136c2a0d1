// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BatchStatement, IBatchProofVerifier} from "../interfaces/IBatchProofVerifier.sol";
import {IProofVerifier, PartitionStatement} from "../interfaces/IProofVerifier.sol";
import {HyperKzgLib} from "./HyperKzgLib.sol";
import {BatchParams, SumKzgBatchLayout} from "./SumKzgBatchLayout.sol";
import {SumKzgBatchRelations} from "./SumKzgBatchRelations.sol";
import {CTX_ACT, CTX_ELL, CTX_MU_I, CTX_MULT, CTX_P_W, CTX_POLY_K} from "./SumKzgLayout.sol";
import {SumKzgProtocol} from "./SumKzgProtocol.sol";
import {SumKzgRelations} from "./SumKzgRelations.sol";
import {SumKzgTranscript} from "./SumKzgTranscript.sol";
import {SumKzgVerifier} from "./SumKzgVerifier.sol";

/// @title SumKzgBatchVerifier
/// @notice The on-chain verifier of SumKZG-ML v2-batch (docs/proof-system-batch.md, normative): one
///         zero-knowledge proof that a sensitive partition of one QLinear layer maps x_b to y_b for
///         B ≤ 64 instances b, each bound to its own job id. The weight commitment is the unchanged
///         single-layer one, registered in `base` (whose records `isWellFormed` reads). The
///         transcript (domain SUMKZG-ML/v2/batch) binds `block.chainid` and this contract's address.
///         As an IProofVerifier, a single proof is a batch of one.
/// @dev The shared proof tail (encodings, round structure, sumcheck, Libra, four-point opening)
///      reuses the single-layer libraries over a context laid out by SumKzgBatchLayout; the relation
///      (B4) is SumKzgBatchRelations. τ_B is drawn by the single-layer replay by presenting it
///      μ_i + μ_B row variables (τ_1..τ_{μ_i} then τ_B,1..τ_B,μ_B are consecutive challenges, B5).
contract SumKzgBatchVerifier is IProofVerifier, IBatchProofVerifier {
    /// @notice sha256 of c-kzg's trusted_setup.txt: the setup every commitment here is made under.
    bytes32 public constant SETUP_ID = 0xd39b9f2d047cc9dca2de58f264b6a09448ccd34db967881a6713eacacf0f26b7;
    /// @notice keccak256("SUMKZG-ML/v2/batch"): the initial transcript state.
    bytes32 internal constant BATCH_DOMAIN = keccak256("SUMKZG-ML/v2/batch");
    /// @notice Activation code of relu (outputs in [0, 127]).
    uint256 internal constant ACTIVATION_RELU = 1;
    /// @notice Bytes of the statement before x_0 (B1).
    uint256 internal constant HEAD_BYTES = 198;

    /// @notice The single-layer verifier that holds the registration records.
    SumKzgVerifier public immutable base;

    constructor(SumKzgVerifier base_) {
        base = base_;
    }

    /// @inheritdoc IProofVerifier
    function isWellFormed(bytes32 weightCommitment, bytes32 setupId, bytes calldata layerHeaders)
        external
        view
        returns (bool)
    {
        return base.isWellFormed(weightCommitment, setupId, layerHeaders);
    }

    /// @inheritdoc IBatchProofVerifier
    /// @dev Accepts only a one-layer partition whose (H_W, m, n) is registered in `base`, with
    ///      1 ≤ B ≤ 64 instances, |inputs| = |outputs| = |jobIds| = B, |x_b| = n, |y_b| = m, y_b in
    ///      [0, 127] for relu, pairwise distinct job ids; then the proof per B2–B5. Returns false on
    ///      anything malformed; reverts only with NotEnoughGas (Bls12381).
    function verifyBatchProof(BatchStatement calldata statement, bytes calldata proof) external view returns (bool) {
        uint256 count = statement.inputs.length;
        if (count == 0 || count > SumKzgBatchLayout.MAX_BATCH) return false;
        if (statement.outputs.length != count || statement.jobIds.length != count) return false;
        (bool ok, Head memory h) = _head(statement.setupId, statement.layerHeaders, statement.weightCommitment);
        if (!ok) return false;
        h.modelId = statement.modelId;
        h.partitionIndex = statement.partitionIndex;
        BatchParams memory bt;
        bt.count = count;
        bt.xs = new uint256[](count);
        bt.ys = new uint256[](count);
        for (uint256 b; b < count; ++b) {
            bytes calldata x = statement.inputs[b];
            bytes calldata y = statement.outputs[b];
            if (x.length != h.n || y.length != h.m) return false;
            uint256 xo;
            uint256 yo;
            assembly ("memory-safe") {
                xo := x.offset
                yo := y.offset
            }
            bt.xs[b] = xo;
            bt.ys[b] = yo;
        }
        if (!_distinct(statement.jobIds)) return false;
        uint256 jobsOffset;
        {
            bytes32[] calldata jobs = statement.jobIds;
            assembly ("memory-safe") {
                jobsOffset := jobs.offset
            }
        }
        return _run(bt, h, jobsOffset, proof);
    }

    /// @inheritdoc IProofVerifier
    /// @dev A batch of one (B = 1) under this contract's address and the batch domain.
    function verifyPartitionProof(PartitionStatement calldata statement, bytes calldata proof)
        external
        view
        returns (bool)
    {
        (bool ok, Head memory h) = _head(statement.setupId, statement.layerHeaders, statement.weightCommitment);
        if (!ok || statement.input.length != h.n || statement.output.length != h.m) return false;
        h.modelId = statement.modelId;
        h.partitionIndex = statement.partitionIndex;
        uint256 jobsOffset;
        assembly ("memory-safe") {
            jobsOffset := add(statement, 0xe0) // the jobId field (a static word of the struct)
        }
        return _run(_single(statement.input, statement.output), h, jobsOffset, proof);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev The batch parameters of a batch of one.
    function _single(bytes calldata x, bytes calldata y) private pure returns (BatchParams memory bt) {
        bt.count = 1;
        bt.xs = new uint256[](1);
        bt.ys = new uint256[](1);
        uint256 xo;
        uint256 yo;
        assembly ("memory-safe") {
            xo := x.offset
            yo := y.offset
        }
        bt.xs[0] = xo;
        bt.ys[0] = yo;
    }

    /// @dev SETUP_ID, exactly one valid layer header, and (H_W, m, n) registered in `base`.
    function _head(bytes32 setupId, bytes calldata layerHeaders, bytes32 weightCommitment)
        private
        view
        returns (bool ok, Head memory h)
    {
        if (setupId != SETUP_ID) return (false, h);
        (ok, h.m, h.n, h.mult, h.shift, h.act) = SumKzgBatchLayout.parseHeader(layerHeaders);
        if (!ok) return (false, h);
        h.weightCommitment = weightCommitment;
        // forge-lint: disable-next-line(unsafe-typecast)
        ok = base.wellFormed(base.commitmentKey(weightCommitment, uint32(h.m), uint32(h.n))); // m, n ≤ 65534
    }

    /// @dev The statement's fixed fields.
    struct Head {
        bytes32 modelId;
        uint256 partitionIndex;
        bytes32 weightCommitment;
        uint256 m;
        uint256 n;
        uint256 mult;
        uint256 shift;
        uint256 act;
    }

    /// @dev The checks on the vectors, the layout, the statement, and the protocol (B2–B5), once the
    ///      caller checked 1 ≤ B ≤ 64, |x_b| = n, |y_b| = m and the job ids.
    function _run(BatchParams memory bt, Head memory h, uint256 jobsOffset, bytes calldata proof)
        private
        view
        returns (bool)
    {
        if (!_vectorsOk(bt, h)) return false;
        uint256 c = _context(bt, h, proof);
        if (c == 0) return false;
        _absorbStatement(c, bt, h, jobsOffset);
        if (!SumKzgProtocol.canonical(c)) return false;
        // Round 2's challenges τ_1..τ_{μ_i}, τ_B (μ_B), τ″ (ℓ): the replay draws CTX_MU_I + μ_B
        // consecutive τ words.
        uint256 muI = _get(c, CTX_MU_I);
        _put(c, CTX_MU_I, muI + bt.muB);
        bool ok = SumKzgProtocol.replay(c);
        _put(c, CTX_MU_I, muI);
        if (!ok || !SumKzgBatchRelations.finalCheck(c, bt)) return false;
        if (!SumKzgRelations.libraCheck(c, _get(c, CTX_ELL))) return false;
        return HyperKzgLib.verifyOpening(c);
    }

    /// @dev A context laid out for the proof (bt.muB, bt.logL2 filled); 0 if the shape is refused,
    ///      the proof's length is not the shape's, or C_W does not hash to H_W.
    function _context(BatchParams memory bt, Head memory h, bytes calldata proof) private pure returns (uint256 c) {
        c = SumKzgBatchLayout.newContext();
        uint256 proofOffset;
        assembly ("memory-safe") {
            proofOffset := proof.offset
        }
        (bool ok, uint256 expected, uint256 muB, uint256 logL2) =
            SumKzgBatchLayout.layout(c, h.m, h.n, h.shift, bt.count, proofOffset);
        if (!ok || proof.length != expected || _weightHash(c) != h.weightCommitment) return 0;
        bt.muB = muB;
        bt.logL2 = logL2;
        _put(c, CTX_MULT, h.mult);
        _put(c, CTX_ACT, h.act);
    }

    /// @dev y_b ≥ 0 for every instance of a relu layer.
    function _vectorsOk(BatchParams memory bt, Head memory h) private pure returns (bool) {
        if (h.act != ACTIVATION_RELU) return true;
        for (uint256 b; b < bt.count; ++b) {
            if (!_allNonNegative(bt.ys[b], h.m)) return false;
        }
        return true;
    }

    /// @dev Whether the job ids are pairwise distinct (B ≤ 64: the quadratic scan is cheap).
    function _distinct(bytes32[] calldata ids) private pure returns (bool ok) {
        assembly ("memory-safe") {
            ok := 1
            let start := ids.offset
            let end := add(start, shl(5, ids.length))
            for { let p := add(start, 0x20) } lt(p, end) { p := add(p, 0x20) } {
                let x := calldataload(p)
                for { let q := start } lt(q, p) { q := add(q, 0x20) } {
                    if eq(calldataload(q), x) {
                        ok := 0
                        p := end
                        break
                    }
                }
            }
        }
    }

    /// @dev keccak256 of the C_W section (the chunk commitments of W′, 128 bytes each).
    function _weightHash(uint256 c) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let offset := mload(add(c, CTX_P_W))
            let length := shl(7, mload(add(c, CTX_POLY_K)))
            let ptr := mload(0x40)
            calldatacopy(ptr, offset, length)
            h := keccak256(ptr, length)
        }
    }

    /// @dev Statement (tag 0x00, B1): chainid (32) ‖ verifier (20) ‖ SETUP_ID (32) ‖ modelId (32) ‖
    ///      partitionIndex (32) ‖ H_W (32) ‖ m (4) ‖ n (4) ‖ M (4) ‖ k (1) ‖ activation (1) ‖ B (4) ‖
    ///      x_0 ‖ … ‖ x_{B−1} ‖ y_0 ‖ … ‖ y_{B−1} ‖ jobId_0 ‖ … ‖ jobId_{B−1}.
    function _absorbStatement(uint256 c, BatchParams memory bt, Head memory h, uint256 jobsOffset) private view {
        SumKzgTranscript.init(c, BATCH_DOMAIN);
        uint256 p = SumKzgTranscript.dataPointer(c);
        _writeHead(p, h, bt.count);
        uint256 q = p + HEAD_BYTES;
        uint256 count = bt.count;
        uint256 n = h.n;
        uint256 m = h.m;
        for (uint256 b; b < count; ++b) {
            uint256 o = bt.xs[b];
            assembly ("memory-safe") {
                calldatacopy(q, o, n)
            }
            q += n;
        }
        for (uint256 b; b < count; ++b) {
            uint256 o = bt.ys[b];
            assembly ("memory-safe") {
                calldatacopy(q, o, m)
            }
            q += m;
        }
        assembly ("memory-safe") {
            calldatacopy(q, jobsOffset, shl(5, count))
        }
        q += 32 * count;
        SumKzgTranscript.absorbBuffer(c, SumKzgTranscript.TAG_STATEMENT, q - p);
    }

    /// @dev The fixed 198 bytes of the statement before x_0.
    function _writeHead(uint256 p, Head memory h, uint256 count) private view {
        bytes32 setupId = SETUP_ID;
        bytes32 modelId = h.modelId;
        uint256 partitionIndex = h.partitionIndex;
        bytes32 wc = h.weightCommitment;
        uint256 m = h.m;
        uint256 n = h.n;
        uint256 mult = h.mult;
        uint256 shift = h.shift;
        uint256 act = h.act;
        assembly ("memory-safe") {
            mstore(p, chainid())
            mstore(add(p, 32), shl(96, address()))
            mstore(add(p, 52), setupId)
            mstore(add(p, 84), modelId)
            mstore(add(p, 116), partitionIndex)
            mstore(add(p, 148), wc)
            mstore(add(p, 180), shl(224, m))
            mstore(add(p, 184), shl(224, n))
            mstore(add(p, 188), shl(224, mult))
            mstore8(add(p, 192), shift)
            mstore8(add(p, 193), act)
            mstore(add(p, 194), shl(224, count))
        }
    }

    /// @dev Whether each of the `len` bytes at calldata `o` is below 0x80 (a non-negative int8).
    function _allNonNegative(uint256 o, uint256 len) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let acc := 0
            let end := add(o, len)
            for {} lt(o, end) { o := add(o, 0x20) } {
                let w := calldataload(o)
                let rest := sub(end, o)
                if lt(rest, 32) { w := and(w, not(shr(shl(3, rest), not(0)))) }
                acc := or(acc, w)
            }
            ok := iszero(and(acc, 0x8080808080808080808080808080808080808080808080808080808080808080))
        }
    }

    function _get(uint256 c, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(c, slot))
        }
    }

    function _put(uint256 c, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(c, slot), v)
        }
    }
}
