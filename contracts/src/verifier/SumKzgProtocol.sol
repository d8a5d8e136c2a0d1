// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Bls12381} from "./Bls12381.sol";
import {HyperKzgLib} from "./HyperKzgLib.sol";
import {
    CTX_ALPHA,
    CTX_BETA,
    CTX_CLAIM,
    CTX_DELTA,
    CTX_ELL,
    CTX_GAMMA,
    CTX_KAPPA,
    CTX_KIND,
    CTX_LAMBDA,
    CTX_MU_I,
    CTX_N_R1,
    CTX_N_R2,
    CTX_NU,
    CTX_P_CA,
    CTX_P_CR,
    CTX_P_END,
    CTX_P_EV,
    CTX_P_FE,
    CTX_P_FOLD,
    CTX_P_LIB,
    CTX_P_R1,
    CTX_P_R2,
    CTX_P_SC,
    CTX_P_W,
    CTX_P_WQ,
    CTX_Q,
    CTX_RHO_L,
    CTX_SIZE,
    CTX_STATE,
    CTX_TAU,
    CTX_TAU2,
    CTX_U,
    SumKzgLayout
} from "./SumKzgLayout.sol";
import {SumKzgRelations} from "./SumKzgRelations.sol";

/// @title The SumKZG-ML v2 protocol after the statement (docs/proof-system.md §7 with
///        docs/proof-system-zk.md Z8)
/// @notice Given a context laid out by SumKzgLayout and a transcript that has absorbed the statement:
///         checks the encodings and the degenerate cases of Z10, replays the transcript (round 1, α,
///         λ, round 2, τ, τ″, γ, ρ_L, the sumcheck rounds from ρ_L·Γ, the final evaluations, ν, C_A,
///         κ, C_Q, the folds, β, the fold and Libra evaluations, q, the witnesses, δ), the sumcheck,
///         the final relation with the Libra identity and the batched opening. Returns false on any
///         failure; never reverts on a malformed proof of the right length.
library SumKzgProtocol {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @dev 2^256 mod r, 1/2 and 1/6 in F.
    uint256 private constant TWO_256 = 0x1824b159acc5056f998c4fefecbc4ff55884b7fa0003480200000001fffffffe;
    uint256 private constant INV2 = 0x39f6d3a994cebea4199cec0404d0ec02a9ded2017fff2dff7fffffff80000001;
    uint256 private constant INV6 = 0x609b60c54d5893118005895c0806deaf1b1e08ad2aa94ca9d555555480000001;

    /// @notice Whether the proof in calldata (at the context's offsets) verifies.
    /// @param xOffset Calldata offset of the input x (inference; unused for registration).
    /// @param yOffset Calldata offset of the output y (inference; unused for registration).
    function run(uint256 c, uint256 xOffset, uint256 yOffset) internal view returns (bool) {
        return
            canonical(c) && replay(c) && SumKzgRelations.finalCheck(c, xOffset, yOffset) && HyperKzgLib.verifyOpening(c);
    }

    /// @notice Whether every point has zero padding and coordinates below p, every scalar is below r,
    ///         and none of C_R (inference), C_Lib, C_Mk, C_A, C_Q is the point at infinity (Z10).
    function canonical(uint256 c) internal pure returns (bool) {
        uint256 pW = _get(c, CTX_P_W);
        uint256 pLib = _get(c, CTX_P_LIB);
        uint256 pR2 = _get(c, CTX_P_R2);
        uint256 pSc = _get(c, CTX_P_SC);
        uint256 pCa = _get(c, CTX_P_CA);
        uint256 pFe = _get(c, CTX_P_FE);
        uint256 pWq = _get(c, CTX_P_WQ);
        uint256 pCr = _get(c, CTX_P_CR);
        return Bls12381.canonicalPoints(pW, (pLib + 256 - pW) >> 7) && Bls12381.canonicalPoints(pR2, (pSc - pR2) >> 7)
            && Bls12381.canonicalPoints(pCa, 2 + SumKzgLayout.FOLDS) && Bls12381.canonicalPoints(pWq, 4)
            && _scalars(pLib + 256, pR2) && _scalars(pSc, pCa) && _scalars(pFe, pWq) && _finite(pLib)
            && _finite(pLib + 128) && _finite(pCa) && _finite(pCa + 128) && (pCr == 0 || _finite(pCr));
    }

    /// @notice Replays the transcript after the statement (the same sponge as SumKzgTranscript) and
    ///         checks the sumcheck rounds: fills the context's challenges, the point u and the final
    ///         claim. False if a round's s(0) + s(1) is not the running claim, ρ_L = 0, β = 0 or
    ///         (inference) u_ℓ·(1 − u_ℓ) = 0 (Z10).
    /// @dev Round 1 (tag 0x01) → α (and λ for inference); round 2 → τ_1..τ_{μ_i}, τ″_1..τ″_ℓ, γ,
    ///      ρ_L; ℓ sumcheck rounds from the claim ρ_L·Γ, top variable first (round t binds variable
    ///      ℓ + 1 − t): check s(0) + s(1) = claim, absorb the four values, draw u_v, claim = s(u_v)
    ///      (Lagrange on {0,1,2,3}); the final evaluations → ν; C_A (0x08) → κ; C_Q (0x09); the folds
    ///      → β; the fold and Libra evaluations (one 0x06 message) → q; the witnesses → δ.
    function replay(uint256 c) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            // The sponge: the state is the first word of the buffer `b` (the scratch after the context).
            function absorb(b, tag, offset, len) {
                mstore8(add(b, 32), tag)
                mstore(add(b, 33), shl(224, len))
                calldatacopy(add(b, 37), offset, len)
                mstore(b, keccak256(b, add(37, len)))
            }
            function squeeze(b, r) -> x {
                mstore8(add(b, 32), 0xf1)
                let h1 := keccak256(b, 33)
                mstore8(add(b, 32), 0xf2)
                let h2 := keccak256(b, 33)
                mstore8(add(b, 32), 0xf0)
                mstore(b, keccak256(b, 33))
                x := addmod(mulmod(h1, TWO_256, r), h2, r)
            }
            // Draws challenges into the words [p, end).
            function squeezeInto(b, p, end, r) {
                for {} lt(p, end) { p := add(p, 0x20) } { mstore(p, squeeze(b, r)) }
            }
            // s(u) for the round polynomial s of degree ≤ 3 given by s(0..3) at calldata `o`:
            // L0 = −(u−1)(u−2)(u−3)/6, L1 = u(u−2)(u−3)/2, L2 = −u(u−1)(u−3)/2, L3 = u(u−1)(u−2)/6.
            function lagrange(o, u, r) -> v {
                let a1 := addmod(u, sub(r, 1), r)
                let a2 := addmod(u, sub(r, 2), r)
                let a3 := addmod(u, sub(r, 3), r)
                let a12 := mulmod(a1, a2, r)
                let ua3 := mulmod(u, a3, r)
                let six := mulmod(calldataload(add(o, 0x60)), mulmod(u, a12, r), r)
                six := addmod(six, sub(r, mulmod(calldataload(o), mulmod(a12, a3, r), r)), r)
                let two := mulmod(calldataload(add(o, 0x20)), mulmod(ua3, a2, r), r)
                two := addmod(two, sub(r, mulmod(calldataload(add(o, 0x40)), mulmod(ua3, a1, r), r)), r)
                v := addmod(mulmod(six, INV6, r), mulmod(two, INV2, r), r)
            }

            let r := R
            let b := add(c, CTX_SIZE)
            mstore(b, mload(add(c, CTX_STATE)))
            // Rounds 1 and 2.
            absorb(b, 0x01, mload(add(c, CTX_P_R1)), mload(add(c, CTX_N_R1)))
            mstore(add(c, CTX_ALPHA), squeeze(b, r))
            if iszero(mload(add(c, CTX_KIND))) { mstore(add(c, CTX_LAMBDA), squeeze(b, r)) } // inference
            absorb(b, 0x02, mload(add(c, CTX_P_R2)), shl(7, mload(add(c, CTX_N_R2))))
            let ell := mload(add(c, CTX_ELL))
            squeezeInto(b, add(c, CTX_TAU), add(add(c, CTX_TAU), shl(5, mload(add(c, CTX_MU_I)))), r)
            squeezeInto(b, add(c, CTX_TAU2), add(add(c, CTX_TAU2), shl(5, ell)), r)
            mstore(add(c, CTX_GAMMA), squeeze(b, r))
            let rhoL := squeeze(b, r)
            mstore(add(c, CTX_RHO_L), rhoL)
            // The sumcheck from ρ_L·Γ: u_v goes to CTX_U + 32·(v − 1), from v = ℓ down to 1.
            ok := iszero(iszero(rhoL))
            let claim := mulmod(rhoL, calldataload(add(mload(add(c, CTX_P_LIB)), 256)), r)
            let o := mload(add(c, CTX_P_SC))
            for { let p := add(add(c, CTX_U), shl(5, ell)) } gt(p, add(c, CTX_U)) {} {
                if iszero(eq(addmod(calldataload(o), calldataload(add(o, 0x20)), r), claim)) {
                    ok := 0
                    break
                }
                absorb(b, 0x03, o, 0x80)
                let u := squeeze(b, r)
                p := sub(p, 0x20)
                mstore(p, u)
                claim := lagrange(o, u, r)
                o := add(o, 0x80)
            }
            mstore(add(c, CTX_CLAIM), claim)
            // Inference: the weight mask's factor u_ℓ·(1 − u_ℓ) must not vanish (Z4).
            if iszero(mload(add(c, CTX_KIND))) {
                let uEll := mload(add(add(c, CTX_U), shl(5, sub(ell, 1))))
                if iszero(mulmod(uEll, addmod(1, sub(r, uEll), r), r)) { ok := 0 }
            }
            // The opening's messages.
            let pEv := mload(add(c, CTX_P_EV))
            let pCa := mload(add(c, CTX_P_CA))
            let pFold := mload(add(c, CTX_P_FOLD))
            let pFe := mload(add(c, CTX_P_FE))
            let pWq := mload(add(c, CTX_P_WQ))
            absorb(b, 0x04, pEv, sub(pCa, pEv))
            mstore(add(c, CTX_NU), squeeze(b, r))
            absorb(b, 0x08, pCa, 128)
            mstore(add(c, CTX_KAPPA), squeeze(b, r))
            absorb(b, 0x09, add(pCa, 128), 128)
            absorb(b, 0x05, pFold, sub(pFe, pFold))
            let beta := squeeze(b, r)
            if iszero(beta) { ok := 0 }
            mstore(add(c, CTX_BETA), beta)
            // The fold evaluations and the Libra evaluations: one message (they are contiguous).
            absorb(b, 0x06, pFe, sub(pWq, pFe))
            mstore(add(c, CTX_Q), squeeze(b, r))
            absorb(b, 0x07, pWq, sub(mload(add(c, CTX_P_END)), pWq))
            mstore(add(c, CTX_DELTA), squeeze(b, r))
            mstore(add(c, CTX_STATE), mload(b))
        }
    }

    /// @dev Whether the 128-byte point encoding at calldata `o` is not the point at infinity (all zero).
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

    /// @dev Whether every 32-byte word of calldata [start, end) is below r.
    function _scalars(uint256 start, uint256 end) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let r := R
            ok := 1
            for { let o := start } lt(o, end) { o := add(o, 0x20) } {
                if iszero(lt(calldataload(o), r)) {
                    ok := 0
                    break
                }
            }
        }
    }

    function _get(uint256 c, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(c, slot))
        }
    }
}
