// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {
    CTX_ELL,
    CTX_KIND,
    CTX_KRHO,
    CTX_LIMBS,
    CTX_M,
    CTX_MU_I,
    CTX_MU_J,
    CTX_N,
    CTX_N_R1,
    CTX_N_R2,
    CTX_NPOLY,
    CTX_P_CA,
    CTX_P_CR,
    CTX_P_END,
    CTX_P_EV,
    CTX_P_FE,
    CTX_P_FOLD,
    CTX_P_LE,
    CTX_P_LIB,
    CTX_P_R1,
    CTX_P_R2,
    CTX_P_SC,
    CTX_P_W,
    CTX_P_WQ,
    CTX_POLY_K,
    CTX_POLY_OFF,
    CTX_SHIFT,
    CTX_SIZE,
    CTX_TS,
    KIND_INFERENCE
} from "./SumKzgLayout.sol";

/// @notice The batch's own parameters, kept in memory allocated before the verification context
///         (nothing may allocate while the context is in use).
/// @param count B, the number of instances (1..64).
/// @param muB μ_B = ⌈log₂ B⌉.
/// @param logL2 log₂ L₂, L₂ = 2^⌈log₂(L + 2)⌉ columns per instance.
/// @param xs Calldata offsets of x_0..x_{B−1} (n bytes each).
/// @param ys Calldata offsets of y_0..y_{B−1} (m bytes each).
struct BatchParams {
    uint256 count;
    uint256 muB;
    uint256 logL2;
    uint256[] xs;
    uint256[] ys;
}

/// @title Shapes and proof layout of SumKZG-ML v2-batch (docs/proof-system-batch.md B2, B5)
/// @notice Fills a SumKzgLayout context for a batch proof of B instances of one QLinear layer: the
///         single-layer shapes (§3, Z1) with n'_B = max(n′, 2^⌈log₂(B′·L₂)⌉) columns and
///         K_L = ⌊((B − 1)·L₂ + L − 1)/cpc⌋ + 1 limb chunks; the proof bytes are Z9's inference layout.
/// @dev Own copies of the single-layer layout helpers (SumKzgLayout's private ones), so that a change
///      of the single-layer limb layout does not move the batch's.
library SumKzgBatchLayout {
    uint256 internal constant LOG_D = 12;
    uint256 internal constant FOLDS = 11;
    uint256 internal constant MAX_VARS = 24;
    uint256 internal constant MAX_DIM = 65_534;
    uint256 internal constant MULTIPLIER_LIMIT = 1 << 31;
    uint256 internal constant MAX_SHIFT = 62;
    uint256 internal constant ONE_HEADER_BYTES = 7 * 32;
    /// @notice Largest batch (B1).
    uint256 internal constant MAX_BATCH = 64;

    /// @notice A fresh context (CTX_SIZE bytes at the free memory pointer, which moves past it).
    function newContext() internal pure returns (uint256 c) {
        assembly ("memory-safe") {
            c := mload(0x40)
            mstore(0x40, add(c, CTX_SIZE))
        }
    }

    /// @notice Reads abi.encode(LayerHeader[]) holding exactly one valid header, canonically encoded
    ///         (the same rule as the single-layer verifier).
    function parseHeader(bytes calldata headers)
        internal
        pure
        returns (bool ok, uint256 m, uint256 n, uint256 mult, uint256 shift, uint256 act)
    {
        if (headers.length != ONE_HEADER_BYTES) return (false, 0, 0, 0, 0, 0);
        uint256 head;
        uint256 count;
        assembly ("memory-safe") {
            let o := headers.offset
            head := calldataload(o)
            count := calldataload(add(o, 0x20))
            n := calldataload(add(o, 0x40))
            m := calldataload(add(o, 0x60))
            mult := calldataload(add(o, 0x80))
            shift := calldataload(add(o, 0xa0))
            act := calldataload(add(o, 0xc0))
        }
        ok = head == 0x20 && count == 1 && m >= 1 && m <= MAX_DIM && n >= 1 && n <= MAX_DIM && mult < MULTIPLIER_LIMIT
            && shift >= 1 && shift <= MAX_SHIFT && act <= 1;
    }

    /// @notice μ_i and μ_j (n′ = 2^μ_j) of the registration layout of an m×n layer (§3, Z1).
    function vars(uint256 m, uint256 n) internal pure returns (bool ok, uint256 muI, uint256 muJ) {
        if (m == 0 || n == 0 || m > MAX_DIM || n > MAX_DIM) return (false, 0, 0);
        muI = ceilLog2(m);
        if (muI == 0) muI = 1; // m' ≥ 2 (Z1)
        if (muI >= LOG_D) return (false, 0, 0);
        muJ = LOG_D - muI + ceilLog2(weightChunks(n, muI));
        if (muJ < 4) muJ = 4; // n' ≥ 16
        if (muI == LOG_D - 1 && muJ < 5) muJ = 5; // (never reached by a batch: m' ≤ 256)
        ok = muI + muJ <= MAX_VARS;
    }

    /// @notice K_W = ⌈(n+1)/g⌉ with g = D/m' − 1.
    function weightChunks(uint256 n, uint256 muI) internal pure returns (uint256) {
        uint256 g = (uint256(1) << (LOG_D - muI)) - 1;
        return (n + g) / g;
    }

    /// @notice The smallest e with 2^e ≥ x.
    function ceilLog2(uint256 x) internal pure returns (uint256 e) {
        while ((uint256(1) << e) < x) ++e;
    }

    /// @notice Fills the context for a batch proof of `count` instances of an m×n layer with requant
    ///         shift k, whose proof starts at calldata `proofOffset` (B2, B5); the caller stores M and
    ///         the activation (CTX_MULT, CTX_ACT).
    /// @return ok False for an unsupported shape: the single-layer refusals, cpc < L₂, ℓ > 24, or a
    ///         batch size outside 1..64.
    /// @return proofLength The exact proof length.
    /// @return muB μ_B.
    /// @return logL2 log₂ L₂.
    function layout(uint256 c, uint256 m, uint256 n, uint256 shift, uint256 count, uint256 proofOffset)
        internal
        pure
        returns (bool ok, uint256 proofLength, uint256 muB, uint256 logL2)
    {
        uint256 kL;
        (ok, muB, logL2, kL) = _shape(c, m, n, shift, count);
        if (!ok) return (false, 0, 0, 0);
        proofLength = _offsets(c, n, kL, proofOffset);
    }

    /// @dev The shape into the context; kL = K_L.
    function _shape(uint256 c, uint256 m, uint256 n, uint256 shift, uint256 count)
        private
        pure
        returns (bool ok, uint256 muB, uint256 logL2, uint256 kL)
    {
        if (count == 0 || count > MAX_BATCH) return (false, 0, 0, 0);
        uint256 muI;
        uint256 muJ;
        (ok, muI, muJ) = vars(m, n);
        if (!ok) return (false, 0, 0, 0);
        uint256 kRho = (shift + 7) / 8;
        uint256 limbs = kRho + (64 - shift + 7) / 8 + 1;
        logL2 = ceilLog2(limbs + 2);
        if (LOG_D - muI < logL2) return (false, 0, 0, 0); // cpc ≥ L₂: each chunk holds whole instances
        muB = ceilLog2(count);
        if (muJ < logL2 + muB) muJ = logL2 + muB; // n'_B = max(n′, B′·L₂)
        if (muI + muJ > MAX_VARS) return (false, 0, 0, 0);
        kL = (((count - 1) << logL2) + limbs - 1) / (uint256(1) << (LOG_D - muI)) + 1;
        uint256 ts = 256 + (uint256(1) << (shift - 8 * (kRho - 1)));
        assembly ("memory-safe") {
            mstore(add(c, CTX_KIND), KIND_INFERENCE)
            mstore(add(c, CTX_M), m)
            mstore(add(c, CTX_N), n)
            mstore(add(c, CTX_MU_I), muI)
            mstore(add(c, CTX_MU_J), muJ)
            mstore(add(c, CTX_ELL), add(muI, muJ))
            mstore(add(c, CTX_SHIFT), shift)
            mstore(add(c, CTX_KRHO), kRho)
            mstore(add(c, CTX_LIMBS), limbs)
            mstore(add(c, CTX_TS), ts)
            mstore(add(c, CTX_NPOLY), 4)
        }
    }

    /// @dev The section offsets of Z9's inference layout with K_L limb chunks; returns the length.
    function _offsets(uint256 c, uint256 n, uint256 kL, uint256 proofOffset) private pure returns (uint256) {
        uint256 muI;
        assembly ("memory-safe") {
            muI := mload(add(c, CTX_MU_I))
        }
        uint256 kW = weightChunks(n, muI);
        uint256 pR1 = proofOffset + 128 * kW;
        uint256 pCR = pR1 + 128 * (kL + 1);
        uint256 pR2 = pCR + 3 * 128 + 32;
        assembly ("memory-safe") {
            mstore(add(c, CTX_P_CR), pCR)
        }
        _sections(c, proofOffset, pR1, pR2 - pR1, pR2, kL);
        _poly(c, 0, proofOffset, kW); // W′
        _poly(c, 1, pR1, kL); // Limb
        _poly(c, 2, pR2, kL); // H
        _poly(c, 3, pR1 + 128 * kL, 1); // Mu
        uint256 end;
        assembly ("memory-safe") {
            end := mload(add(c, CTX_P_END))
        }
        return end - proofOffset;
    }

    /// @dev Offsets of every section: C_W ‖ round 1 (`lenR1` bytes, ending C_Lib ‖ C_Mk ‖ Γ) ‖
    ///      round 2 (`nR2` points) ‖ sumcheck[ℓ][4] ‖ evals[6] ‖ C_A ‖ C_Q ‖ folds[d−1] ‖
    ///      foldEvals[d][3] ‖ libraEvals[4] ‖ W[4] (Z9).
    function _sections(uint256 c, uint256 pW, uint256 pR1, uint256 lenR1, uint256 pR2, uint256 nR2) private pure {
        assembly ("memory-safe") {
            mstore(add(c, CTX_P_W), pW)
            mstore(add(c, CTX_P_R1), pR1)
            mstore(add(c, CTX_N_R1), lenR1)
            mstore(add(c, CTX_P_LIB), sub(pR2, 288))
            mstore(add(c, CTX_P_R2), pR2)
            mstore(add(c, CTX_N_R2), nR2)
            let pSc := add(pR2, shl(7, nR2))
            mstore(add(c, CTX_P_SC), pSc)
            let pEv := add(pSc, shl(7, mload(add(c, CTX_ELL))))
            mstore(add(c, CTX_P_EV), pEv)
            let pCa := add(pEv, shl(5, add(mload(add(c, CTX_NPOLY)), 2)))
            mstore(add(c, CTX_P_CA), pCa)
            let pFold := add(pCa, 256)
            mstore(add(c, CTX_P_FOLD), pFold)
            let pFe := add(pFold, mul(128, FOLDS))
            mstore(add(c, CTX_P_FE), pFe)
            let pLe := add(pFe, mul(96, LOG_D))
            mstore(add(c, CTX_P_LE), pLe)
            let pWq := add(pLe, 128)
            mstore(add(c, CTX_P_WQ), pWq)
            mstore(add(c, CTX_P_END), add(pWq, 512))
        }
    }

    function _poly(uint256 c, uint256 p, uint256 offset, uint256 k) private pure {
        assembly ("memory-safe") {
            mstore(add(add(c, CTX_POLY_OFF), shl(5, p)), offset)
            mstore(add(add(c, CTX_POLY_K), shl(5, p)), k)
        }
    }
}
