// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// -------------------------------------------------------------------------------------------------
// The verification context: one memory block of words at a base pointer `c`, shared by the
// verifier's libraries. Byte offsets from `c`:
// -------------------------------------------------------------------------------------------------

/// @dev Transcript state (keccak sponge, 32 bytes).
uint256 constant CTX_STATE = 0x000;
/// @dev Which relation: KIND_INFERENCE or KIND_REGISTRATION.
uint256 constant CTX_KIND = 0x020;
/// @dev Layer shape and requant parameters: m (rows), n (columns), M, k, activation.
uint256 constant CTX_M = 0x040;
uint256 constant CTX_N = 0x060;
uint256 constant CTX_MULT = 0x080;
uint256 constant CTX_SHIFT = 0x0a0;
uint256 constant CTX_ACT = 0x0c0;
/// @dev μ_i = log2 m', μ_j = log2 n', ℓ = μ_i + μ_j.
uint256 constant CTX_MU_I = 0x0e0;
uint256 constant CTX_MU_J = 0x100;
uint256 constant CTX_ELL = 0x120;
/// @dev Kρ (remainder limbs), L (all limbs), TS (lookup table size).
uint256 constant CTX_KRHO = 0x140;
uint256 constant CTX_LIMBS = 0x160;
uint256 constant CTX_TS = 0x180;
/// @dev Number of opened polynomials P (4 for inference, 5 for registration); the proof carries
///      P + 2 final evaluations (then M̃k(u_lo) and s_G).
uint256 constant CTX_NPOLY = 0x1a0;
/// @dev Challenges α, γ, ν, β, q, δ and the running sumcheck claim.
uint256 constant CTX_ALPHA = 0x1c0;
uint256 constant CTX_GAMMA = 0x1e0;
uint256 constant CTX_NU = 0x200;
uint256 constant CTX_BETA = 0x220;
uint256 constant CTX_Q = 0x240;
uint256 constant CTX_DELTA = 0x260;
uint256 constant CTX_CLAIM = 0x280;
/// @dev Absolute calldata offsets of the proof's sections (docs/proof-system-zk.md Z9). CTX_N_R1
///      is the byte length of the round-1 message, CTX_N_R2 the number of round-2 points.
uint256 constant CTX_P_W = 0x2a0;
uint256 constant CTX_P_R1 = 0x2c0;
uint256 constant CTX_N_R1 = 0x2e0;
uint256 constant CTX_P_R2 = 0x300;
uint256 constant CTX_N_R2 = 0x320;
uint256 constant CTX_P_SC = 0x340;
uint256 constant CTX_P_EV = 0x360;
uint256 constant CTX_P_FOLD = 0x380;
uint256 constant CTX_P_FE = 0x3a0;
uint256 constant CTX_P_WQ = 0x3c0;
uint256 constant CTX_P_END = 0x3e0;
/// @dev Per opened polynomial p (in opening order): calldata offset of its chunk commitments, then
///      its chunk count K_p (MAX_POLYS words each).
uint256 constant CTX_POLY_OFF = 0x400;
uint256 constant CTX_POLY_K = 0x4a0;
/// @dev Public values of the final check (CTX_PV + 32·i), filled by SumKzgRelations.
uint256 constant CTX_PV = 0x540;
/// @dev τ_1..τ_{μ_i}, τ″_1..τ″_ℓ and the sumcheck point u_1..u_ℓ (24 words each).
uint256 constant CTX_TAU = 0x6c0;
uint256 constant CTX_TAU2 = 0x9c0;
uint256 constant CTX_U = 0xcc0;
/// @dev The inference sub-table separator λ (drawn after α).
uint256 constant CTX_LAMBDA = 0xfc0;
/// @dev The Libra challenge ρ_L (drawn after γ) and the grand-sum challenge κ (after C_A).
uint256 constant CTX_RHO_L = 0xfe0;
uint256 constant CTX_KAPPA = 0x1000;
/// @dev Calldata offsets of C_Lib (C_Mk and Γ follow it), of C_R (inference; 0 for registration),
///      of C_A (C_Q follows it) and of the four Libra evaluations Lib̂(β) ‖ Â(β) ‖ Q̂(β) ‖ Â(ωβ).
uint256 constant CTX_P_LIB = 0x1020;
uint256 constant CTX_P_CR = 0x1040;
uint256 constant CTX_P_CA = 0x1060;
uint256 constant CTX_P_LE = 0x1080;
/// @dev Intermediate values of the Libra identity (SumKzgRelations, 8 words).
uint256 constant CTX_LIBRA = 0x10a0;
/// @dev Size of the context. The memory after it is scratch (transcript buffer, tables, MSM input):
///      nothing may allocate memory while a context is in use.
uint256 constant CTX_SIZE = 0x11a0;

/// @dev CTX_KIND values.
uint256 constant KIND_INFERENCE = 0;
uint256 constant KIND_REGISTRATION = 1;

/// @title Shapes and proof layout of SumKZG-ML v2 (docs/proof-system.md §3, §9 with
///        docs/proof-system-zk.md Z1, Z9)
/// @notice Derives the padded sizes, chunk counts and limb counts of a layer and the offsets of every
///         section of a proof, and parses a partition's layer headers.
library SumKzgLayout {
    /// @notice log2 of the setup size D = 4096.
    uint256 internal constant LOG_D = 12;
    /// @notice Gemini folds sent: d − 1.
    uint256 internal constant FOLDS = 11;
    /// @notice Largest accepted ℓ.
    uint256 internal constant MAX_VARS = 24;
    /// @notice Largest accepted m and n.
    uint256 internal constant MAX_DIM = 65_534;
    /// @notice Largest number of opened polynomials.
    uint256 internal constant MAX_POLYS = 5;
    /// @notice Multipliers are below 2^31.
    uint256 internal constant MULTIPLIER_LIMIT = 1 << 31;
    /// @notice Largest requant shift.
    uint256 internal constant MAX_SHIFT = 62;
    /// @notice Bytes of abi.encode(LayerHeader[]) with one header: offset, length, five fields.
    uint256 internal constant ONE_HEADER_BYTES = 7 * 32;

    /// @notice A fresh context (CTX_SIZE bytes at the free memory pointer, which moves past it).
    function newContext() internal pure returns (uint256 c) {
        assembly ("memory-safe") {
            c := mload(0x40)
            mstore(0x40, add(c, CTX_SIZE))
        }
    }

    /// @notice Reads abi.encode(LayerHeader[]) holding exactly one valid header, canonically encoded.
    /// @return ok False for any other length, a non-canonical encoding or an invalid parameter.
    /// @return m Rows (outDim).
    /// @return n Columns (inDim).
    /// @return mult The requant multiplier M.
    /// @return shift The requant shift k.
    /// @return act Activation (0 none, 1 relu).
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

    /// @notice μ_i and μ_j of an m×n layer (§3, Z1): m' = max(2, 2^⌈log₂ m⌉) = 2^μ_i ≤ D/2,
    ///         cpc = D/m' columns per chunk,
    ///         n' = 2^μ_j = max(2^⌈log₂(cpc·K_W)⌉, 2^⌈log₂(cpc·K_L^max)⌉, 16): the middle term (the
    ///         limb chunks of L = 10, §5) exceeds 16 only for m' = D/2, where it is 32. ok is false
    ///         outside 1 ≤ m, n ≤ 65534, for m' > D/2 (a chunk must hold a data column and its
    ///         blinding column) or for ℓ > 24.
    function vars(uint256 m, uint256 n) internal pure returns (bool ok, uint256 muI, uint256 muJ) {
        if (m == 0 || n == 0 || m > MAX_DIM || n > MAX_DIM) return (false, 0, 0);
        muI = ceilLog2(m);
        if (muI == 0) muI = 1; // m' ≥ 2 (Z1)
        if (muI >= LOG_D) return (false, 0, 0);
        muJ = LOG_D - muI + ceilLog2(weightChunks(n, muI)); // log₂ of 2^⌈log₂(cpc·K_W)⌉
        if (muJ < 4) muJ = 4; // n' ≥ 16
        if (muI == LOG_D - 1 && muJ < 5) muJ = 5; // cpc = 2: the L ≤ 10 limbs span 2L ≤ 20 columns
        ok = muI + muJ <= MAX_VARS;
    }

    /// @notice K_W = ⌈(n+1)/g⌉ with g = D/m' − 1 data columns per weight chunk (μ_i < d).
    function weightChunks(uint256 n, uint256 muI) internal pure returns (uint256) {
        uint256 g = (uint256(1) << (LOG_D - muI)) - 1;
        return (n + g) / g;
    }

    /// @notice ⌊posL(count − 1)/cpc⌋ + 1: the chunks of `count` ≥ 1 limb columns at
    ///         posL(t) = t + ⌊t/g⌋, g = cpc − 1, cpc = D/m' = 2^(d − μ_i) (Z1: the last column of every
    ///         chunk is free for its blinding entries).
    function limbChunks(uint256 count, uint256 muI) internal pure returns (uint256 k) {
        assembly ("memory-safe") {
            // 1 ≤ count ≤ 10, μ_i ≤ d − 1: no overflow, g ≥ 1.
            let b := sub(LOG_D, muI)
            let last := sub(count, 1)
            k := add(shr(b, add(last, div(last, sub(shl(b, 1), 1)))), 1)
        }
    }

    /// @notice The smallest e with 2^e ≥ x.
    function ceilLog2(uint256 x) internal pure returns (uint256 e) {
        while ((uint256(1) << e) < x) ++e;
    }

    /// @notice ⌈a / D⌉.
    function chunks(uint256 a) internal pure returns (uint256) {
        return (a + (uint256(1) << LOG_D) - 1) >> LOG_D;
    }

    /// @notice Fills the context for an inference proof of an m×n layer with requant (M, k) and
    ///         activation `act`, whose proof starts at calldata `proofOffset`.
    /// @return ok False for an unsupported shape.
    /// @return proofLength The exact proof length.
    function layoutInference(
        uint256 c,
        uint256 m,
        uint256 n,
        uint256 mult,
        uint256 shift,
        uint256 act,
        uint256 proofOffset
    ) internal pure returns (bool ok, uint256 proofLength) {
        uint256 muI;
        uint256 muJ;
        (ok, muI, muJ) = vars(m, n);
        if (!ok) return (false, 0);
        _common(c, KIND_INFERENCE, m, n, muI, muJ);
        uint256 kRho = (shift + 7) / 8;
        uint256 limbs = kRho + (64 - shift + 7) / 8 + 1;
        uint256 topBits = shift - 8 * (kRho - 1);
        assembly ("memory-safe") {
            mstore(add(c, CTX_MULT), mult)
            mstore(add(c, CTX_SHIFT), shift)
            mstore(add(c, CTX_ACT), act)
            mstore(add(c, CTX_KRHO), kRho)
            mstore(add(c, CTX_LIMBS), limbs)
            mstore(add(c, CTX_TS), add(256, shl(topBits, 1)))
            mstore(add(c, CTX_NPOLY), 4)
        }
        proofLength = _inferenceSections(c, n, limbChunks(limbs, muI), proofOffset);
    }

    /// @dev C_W[K_W] ‖ C_Limb[K_L] ‖ C_Mu ‖ C_R ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H[K_L] ‖ ..., with
    ///      K_L = ⌊posL(L−1)/cpc⌋ + 1 (Z1, Z9).
    function _inferenceSections(uint256 c, uint256 n, uint256 kL, uint256 proofOffset)
        private
        pure
        returns (uint256 proofLength)
    {
        uint256 kW = weightChunks(n, _get(c, CTX_MU_I));
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
        proofLength = _get(c, CTX_P_END) - proofOffset;
    }

    /// @notice Fills the context for the registration proof of an m×n weight commitment, whose proof
    ///         starts at calldata `proofOffset`.
    /// @return ok False for an unsupported shape.
    /// @return proofLength The exact proof length.
    function layoutRegistration(uint256 c, uint256 m, uint256 n, uint256 proofOffset)
        internal
        pure
        returns (bool ok, uint256 proofLength)
    {
        uint256 muI;
        uint256 muJ;
        (ok, muI, muJ) = vars(m, n);
        if (!ok) return (false, 0);
        _common(c, KIND_REGISTRATION, m, n, muI, muJ);
        assembly ("memory-safe") {
            mstore(add(c, CTX_TS), 256)
            mstore(add(c, CTX_NPOLY), 5)
        }
        uint256 kW = weightChunks(n, muI); // = K_HW
        uint256 kB = limbChunks(4, muI); // K_B = ⌊posB(3)/cpc⌋ + 1 (Z1)
        uint256 pR1 = proofOffset + 128 * kW;
        uint256 pR2 = pR1 + 128 * (kB + 3) + 32; // C_BL[K_B] ‖ C_Mu ‖ C_Lib ‖ C_Mk ‖ Γ
        assembly ("memory-safe") {
            mstore(add(c, CTX_P_CR), 0)
        }
        _sections(c, proofOffset, pR1, pR2 - pR1, pR2, kW + kB);
        _poly(c, 0, proofOffset, kW); // W′
        _poly(c, 1, pR1, kB); // BL
        _poly(c, 2, pR2, kW); // HW
        _poly(c, 3, pR2 + 128 * kW, kB); // HB
        _poly(c, 4, pR1 + 128 * kB, 1); // Mu
        proofLength = _get(c, CTX_P_END) - proofOffset;
    }

    /// @notice Calldata offset and byte length of the C_W section (what H_W hashes).
    function weightSection(uint256 c) internal pure returns (uint256 offset, uint256 length) {
        assembly ("memory-safe") {
            offset := mload(add(c, CTX_P_W))
            length := shl(7, mload(add(c, CTX_POLY_K)))
        }
    }

    /// @notice The layer parameters held by the context: m, n, M, k, activation.
    function layerParams(uint256 c)
        internal
        pure
        returns (uint256 m, uint256 n, uint256 mult, uint256 shift, uint256 act)
    {
        assembly ("memory-safe") {
            m := mload(add(c, CTX_M))
            n := mload(add(c, CTX_N))
            mult := mload(add(c, CTX_MULT))
            shift := mload(add(c, CTX_SHIFT))
            act := mload(add(c, CTX_ACT))
        }
    }

    function _common(uint256 c, uint256 kind, uint256 m, uint256 n, uint256 muI, uint256 muJ) private pure {
        assembly ("memory-safe") {
            mstore(add(c, CTX_KIND), kind)
            mstore(add(c, CTX_M), m)
            mstore(add(c, CTX_N), n)
            mstore(add(c, CTX_MU_I), muI)
            mstore(add(c, CTX_MU_J), muJ)
            mstore(add(c, CTX_ELL), add(muI, muJ))
        }
    }

    /// @dev Offsets of every section: C_W ‖ round 1 (`lenR1` bytes, ending C_Lib ‖ C_Mk ‖ Γ) ‖
    ///      round 2 (`nR2` points) ‖ sumcheck[ℓ][4] ‖ evals[npoly + 2] ‖ C_A ‖ C_Q ‖ folds[d−1] ‖
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

    function _get(uint256 c, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(c, slot))
        }
    }
}
