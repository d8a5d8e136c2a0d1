// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {PartitionStatement} from "../../src/interfaces/IProofVerifier.sol";
import {Bls12381} from "../../src/verifier/Bls12381.sol";
import {FieldMath} from "../../src/verifier/FieldMath.sol";
import {HyperKzgLib} from "../../src/verifier/HyperKzgLib.sol";
import {
    CTX_ALPHA,
    CTX_BETA,
    CTX_DELTA,
    CTX_ELL,
    CTX_GAMMA,
    CTX_KAPPA,
    CTX_KIND,
    CTX_LAMBDA,
    CTX_MU_I,
    CTX_NPOLY,
    CTX_NU,
    CTX_P_EV,
    CTX_P_LE,
    CTX_PV,
    CTX_Q,
    CTX_RHO_L,
    CTX_TAU,
    CTX_TAU2,
    CTX_U,
    KIND_INFERENCE,
    SumKzgLayout
} from "../../src/verifier/SumKzgLayout.sol";
import {SumKzgProtocol} from "../../src/verifier/SumKzgProtocol.sol";
import {SumKzgRelations} from "../../src/verifier/SumKzgRelations.sol";
import {SumKzgTranscript} from "../../src/verifier/SumKzgTranscript.sol";
import {SumKzgVerifier} from "../../src/verifier/SumKzgVerifier.sol";

/// @title SumKzgVerifierHarness
/// @notice TEST ONLY: the verifier plus views of its transcript (the statement bytes it absorbs and every
///         challenge it draws), so tests can compare them with the Python reference's recorded values.
contract SumKzgVerifierHarness is SumKzgVerifier {
    /// @notice Replays an inference proof's transcript: the statement bytes and the challenges in the
    ///         order α, λ, τ[μ_i], τ″[ℓ], γ, ρ_L, u_ℓ..u_1, ν, κ, β, q, δ; `ok` is the replay's verdict
    ///         (sumcheck rounds and the degenerate challenges).
    function inferenceTranscript(PartitionStatement calldata statement, bytes calldata proof)
        external
        view
        returns (bool ok, bytes memory statementBytes, uint256[] memory challenges)
    {
        uint256 c = _inferenceContext(statement, proof);
        require(c != 0, "statement or proof length rejected");
        _absorbInferenceStatement(c, statement, statement.input, statement.output);
        statementBytes = _buffer(c, 226 + statement.input.length + statement.output.length);
        ok = SumKzgProtocol.replay(c);
        challenges = _challenges(c);
    }

    /// @notice The same for a registration proof of an m×n commitment (no λ).
    function registrationTranscript(uint32 m, uint32 n, bytes calldata proof)
        external
        view
        returns (bool ok, bytes memory statementBytes, uint256[] memory challenges)
    {
        uint256 c = SumKzgLayout.newContext();
        uint256 offset;
        assembly ("memory-safe") {
            offset := proof.offset
        }
        (bool shapeOk, uint256 expected) = SumKzgLayout.layoutRegistration(c, m, n, offset);
        require(shapeOk && expected == proof.length, "shape or length rejected");
        _absorbRegistrationStatement(c, _weightHash(c), m, n);
        statementBytes = _buffer(c, 124);
        ok = SumKzgProtocol.replay(c);
        challenges = _challenges(c);
    }

    /// @notice The verdict of each stage of a registration proof: encodings and Z10's points,
    ///         the transcript replay (sumcheck rounds, degenerate challenges), the final check (with
    ///         the Libra identity), the opening.
    function registrationStages(uint32 m, uint32 n, bytes calldata proof)
        external
        view
        returns (bool[4] memory ok, uint256[12] memory pv)
    {
        uint256 c = SumKzgLayout.newContext();
        uint256 offset;
        assembly ("memory-safe") {
            offset := proof.offset
        }
        (bool shapeOk, uint256 expected) = SumKzgLayout.layoutRegistration(c, m, n, offset);
        require(shapeOk && expected == proof.length, "shape or length rejected");
        _absorbRegistrationStatement(c, _weightHash(c), m, n);
        ok[0] = SumKzgProtocol.canonical(c);
        ok[1] = SumKzgProtocol.replay(c);
        ok[2] = SumKzgRelations.finalCheck(c, 0, 0);
        for (uint256 i; i < 12; ++i) {
            pv[i] = _word(c, CTX_PV + 32 * i);
        }
        ok[3] = HyperKzgLib.verifyOpening(c);
    }

    /// @notice The same for an inference proof.
    function inferenceStages(PartitionStatement calldata statement, bytes calldata proof)
        external
        view
        returns (bool[4] memory ok)
    {
        uint256 c = _inferenceContext(statement, proof);
        require(c != 0, "statement or proof length rejected");
        bytes calldata x = statement.input;
        bytes calldata y = statement.output;
        _absorbInferenceStatement(c, statement, x, y);
        uint256 xOffset;
        uint256 yOffset;
        assembly ("memory-safe") {
            xOffset := x.offset
            yOffset := y.offset
        }
        ok[0] = SumKzgProtocol.canonical(c);
        ok[1] = SumKzgProtocol.replay(c);
        ok[2] = SumKzgRelations.finalCheck(c, xOffset, yOffset);
        ok[3] = HyperKzgLib.verifyOpening(c);
    }

    /// @dev Copies the absorbed statement out of the scratch; allocates far past it, since the verifier
    ///      uses the memory after its context as scratch.
    function _buffer(uint256 c, uint256 len) private pure returns (bytes memory out) {
        assembly ("memory-safe") {
            mstore(0x40, add(mload(0x40), 0x100000))
        }
        out = new bytes(len);
        uint256 src = SumKzgTranscript.dataPointer(c);
        assembly ("memory-safe") {
            mcopy(add(out, 0x20), src, len)
        }
    }

    function _challenges(uint256 c) private pure returns (uint256[] memory out) {
        uint256 muI = _word(c, CTX_MU_I);
        uint256 ell = _word(c, CTX_ELL);
        bool inference = _word(c, CTX_KIND) == KIND_INFERENCE;
        out = new uint256[](2 * ell + muI + (inference ? 9 : 8));
        uint256 k;
        out[k++] = _word(c, CTX_ALPHA);
        if (inference) out[k++] = _word(c, CTX_LAMBDA);
        for (uint256 i; i < muI; ++i) {
            out[k++] = _word(c, CTX_TAU + 32 * i);
        }
        for (uint256 i; i < ell; ++i) {
            out[k++] = _word(c, CTX_TAU2 + 32 * i);
        }
        out[k++] = _word(c, CTX_GAMMA);
        out[k++] = _word(c, CTX_RHO_L);
        for (uint256 v = ell; v >= 1; --v) {
            out[k++] = _word(c, CTX_U + 32 * (v - 1));
        }
        out[k++] = _word(c, CTX_NU);
        out[k++] = _word(c, CTX_KAPPA);
        out[k++] = _word(c, CTX_BETA);
        out[k++] = _word(c, CTX_Q);
        out[k++] = _word(c, CTX_DELTA);
    }

    function _word(uint256 c, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(c, slot))
        }
    }
}

/// @title SumKzgLibHarness
/// @notice TEST ONLY: external entry points to the verifier's field helpers and transcript.
contract SumKzgLibHarness {
    /// @notice One transcript op: absorb (`isAbsorb`) `data` under `tag`, or draw a challenge.
    struct Op {
        bool isAbsorb;
        uint8 tag;
        bytes data;
    }

    /// @notice Runs `ops` from init(domain); returns the state after each op and each op's challenge
    ///         (0 for an absorb). `fromMemory` absorbs through the memory buffer instead of calldata.
    function transcript(bytes calldata domain, Op[] calldata ops, bool fromMemory)
        external
        pure
        returns (bytes32 initial, bytes32[] memory states, uint256[] memory challenges)
    {
        states = new bytes32[](ops.length);
        challenges = new uint256[](ops.length);
        // The context last: the memory after it is the transcript's scratch.
        uint256 c = SumKzgLayout.newContext();
        SumKzgTranscript.init(c, keccak256(domain));
        initial = _state(c);
        for (uint256 i; i < ops.length; ++i) {
            if (ops[i].isAbsorb) {
                bytes calldata data = ops[i].data;
                if (fromMemory) {
                    uint256 dst = SumKzgTranscript.dataPointer(c);
                    assembly ("memory-safe") {
                        calldatacopy(dst, data.offset, data.length)
                    }
                    SumKzgTranscript.absorbBuffer(c, ops[i].tag, data.length);
                } else {
                    uint256 offset;
                    assembly ("memory-safe") {
                        offset := data.offset
                    }
                    SumKzgTranscript.absorbCalldata(c, ops[i].tag, offset, data.length);
                }
            } else {
                challenges[i] = SumKzgTranscript.challenge(c);
            }
            states[i] = _state(c);
        }
    }

    /// @notice Bls12381.g1MsmGas.
    function g1MsmGas(uint256 k) external pure returns (uint256) {
        return Bls12381.g1MsmGas(k);
    }

    /// @notice FieldMath.inverse.
    function inverse(uint256 x) external view returns (uint256) {
        return FieldMath.inverse(x);
    }

    /// @notice FieldMath.eqTable over the point `w`.
    function eqTable(uint256[] memory w) external pure returns (uint256[] memory table) {
        table = new uint256[](uint256(1) << w.length);
        uint256 dst;
        uint256 src;
        assembly ("memory-safe") {
            dst := add(table, 0x20)
            src := add(w, 0x20)
        }
        FieldMath.eqTable(dst, src, w.length);
    }

    /// @notice FieldMath.eqIndex, eqPrefixSum and eqZero over the point `w`.
    function eqScalars(uint256[] memory w, uint256 f, uint256 n)
        external
        pure
        returns (uint256 atIndex, uint256 prefixSum, uint256 atZero)
    {
        uint256 src;
        assembly ("memory-safe") {
            src := add(w, 0x20)
        }
        atIndex = FieldMath.eqIndex(src, w.length, f);
        prefixSum = FieldMath.eqPrefixSum(src, w.length, n);
        atZero = FieldMath.eqZero(src, w.length);
    }

    /// @notice FieldMath.eqPoints(a, b).
    function eqPoints(uint256[] memory a, uint256[] memory b) external pure returns (uint256) {
        uint256 pa;
        uint256 pb;
        assembly ("memory-safe") {
            pa := add(a, 0x20)
            pb := add(b, 0x20)
        }
        return FieldMath.eqPoints(pa, pb, a.length);
    }

    /// @notice SumKzgRelations.libraCheck (the Libra identity of Z5) at the point `u` with the claimed
    ///         s_G, κ, β and the Libra evaluations Lib̂(β), Â(β), Q̂(β), Â(ωβ).
    function libraIdentity(uint256[] memory u, uint256 sG, uint256 kappa, uint256 beta, uint256[4] calldata evals)
        external
        view
        returns (bool)
    {
        uint256 c = SumKzgLayout.newContext();
        uint256 leOffset;
        assembly ("memory-safe") {
            leOffset := evals
        }
        for (uint256 i; i < u.length; ++i) {
            _setWord(c, CTX_U + 32 * i, u[i]);
        }
        _setWord(c, CTX_BETA, beta);
        _setWord(c, CTX_KAPPA, kappa);
        _setWord(c, CTX_P_LE, leOffset);
        // s_G is final evaluation P + 1 = 1 with P = 0: the `sG` argument is the calldata word at
        // 4 + 32 (the second head word), so the final evaluations "start" at 4.
        _setWord(c, CTX_NPOLY, 0);
        _setWord(c, CTX_P_EV, 4);
        assert(sG == _calldataWord(36));
        return SumKzgRelations.libraCheck(c, u.length);
    }

    function _calldataWord(uint256 o) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := calldataload(o)
        }
    }

    function _setWord(uint256 c, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(c, slot), v)
        }
    }

    /// @notice SumKzgLayout.vars and the proof lengths of both relations for an m×n layer with shift k.
    function layout(uint256 m, uint256 n, uint256 k)
        external
        pure
        returns (bool ok, uint256 muI, uint256 muJ, uint256 inferenceLength, uint256 registrationLength)
    {
        (ok, muI, muJ) = SumKzgLayout.vars(m, n);
        if (!ok) return (ok, muI, muJ, 0, 0);
        uint256 c = SumKzgLayout.newContext();
        (, inferenceLength) = SumKzgLayout.layoutInference(c, m, n, 1, k, 0, 0);
        (, registrationLength) = SumKzgLayout.layoutRegistration(c, m, n, 0);
    }

    function _state(uint256 c) private pure returns (bytes32 s) {
        assembly ("memory-safe") {
            s := mload(c)
        }
    }
}
