// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {
    CTX_ELL,
    CTX_KIND,
    CTX_MU_I,
    CTX_MU_J,
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
    CTX_SIZE,
    KIND_INFERENCE,
    SumKzgLayout
} from "./SumKzgLayout.sol";

// -------------------------------------------------------------------------------------------------
// The stack verification context (docs/proof-system-stack.md): an extension block of SK_SIZE bytes at
// `s`, immediately followed by a single-layer context `c = s + SK_SIZE` (SumKzgLayout's CTX_* slots),
// whose shared slots (transcript state, challenges, the point u, section offsets of the shared proof
// tail) the reused SumKzgProtocol.canonical/replay and SumKzgRelations.libraCheck read. The memory
// after `c + CTX_SIZE` is scratch. Offsets from `s`:
// -------------------------------------------------------------------------------------------------

/// @dev Layer 1 (m1 × n1, M1, k1, act1) and layer 2 (m2 × n2 with n2 = m1, M2, k2, act2).
uint256 constant SK_M1 = 0x000;
uint256 constant SK_N1 = 0x020;
uint256 constant SK_MULT1 = 0x040;
uint256 constant SK_SHIFT1 = 0x060;
uint256 constant SK_ACT1 = 0x080;
uint256 constant SK_M2 = 0x0a0;
uint256 constant SK_MULT2 = 0x0c0;
uint256 constant SK_SHIFT2 = 0x0e0;
uint256 constant SK_ACT2 = 0x100;
/// @dev μ_i = log₂ m', μ_j = max(μ_j(L_P), μ_j(L_V)), b = log₂ cpc = d − μ_i (S2).
uint256 constant SK_MU_I = 0x120;
uint256 constant SK_MU_J = 0x140;
uint256 constant SK_B = 0x160;
/// @dev Layer-1 limbs: Kρ1, Ku1, L1 = Kρ1 + 2·Ku1 + 1; T1's sub-table bounds 256 + 2^{k1'} and TS1.
uint256 constant SK_KRHO1 = 0x180;
uint256 constant SK_KU1 = 0x1a0;
uint256 constant SK_L1 = 0x1c0;
uint256 constant SK_SUB1 = 0x1e0;
uint256 constant SK_TS1 = 0x200;
/// @dev Layer-2 limbs: Kρ2, L2 = Kρ2 + Ku2; TS2 = 256 + 2^{k2'}.
uint256 constant SK_KRHO2 = 0x220;
uint256 constant SK_L2 = 0x240;
uint256 constant SK_TS2 = 0x260;
/// @dev Chunk counts K_W(L_P), K_W(L_V), K_L1, K_L2.
uint256 constant SK_KWP = 0x280;
uint256 constant SK_KWV = 0x2a0;
uint256 constant SK_KL1 = 0x2c0;
uint256 constant SK_KL2 = 0x2e0;
/// @dev Calldata offsets (S7) of C_P, C_V, C_Limb1, C_Mu1, C_Act, C_Limb2, C_Mu2, C_R1 (C_R2 follows),
///      C_H1, C_H2, and of the statement's x and y.
uint256 constant SK_P_P = 0x300;
uint256 constant SK_P_V = 0x320;
uint256 constant SK_P_LIMB1 = 0x340;
uint256 constant SK_P_MU1 = 0x360;
uint256 constant SK_P_ACT = 0x380;
uint256 constant SK_P_LIMB2 = 0x3a0;
uint256 constant SK_P_MU2 = 0x3c0;
uint256 constant SK_P_R1 = 0x3e0;
uint256 constant SK_P_H1 = 0x400;
uint256 constant SK_P_H2 = 0x420;
uint256 constant SK_P_X = 0x440;
uint256 constant SK_P_Y = 0x460;
/// @dev Public values of the final check (SumKzgStackRelations), SK_PV + 32·slot.
uint256 constant SK_PV = 0x480;
/// @dev Size of the extension block (SK_PV + 32 public-value words; SumKzgStackRelations uses 27).
uint256 constant SK_SIZE = 0x880;

/// @notice The two layer headers of a stacked partition (docs/proof-system-stack.md S1): layer 1 is
///         m1 × n1 with (M1, k1, act1), layer 2 is m2 × m1 with (M2, k2, act2).
struct StackHeaders {
    uint256 m1;
    uint256 n1;
    uint256 mult1;
    uint256 shift1;
    uint256 act1;
    uint256 m2;
    uint256 mult2;
    uint256 shift2;
    uint256 act2;
}

/// @title Shapes and proof layout of SumKZG-ML v2-stack (docs/proof-system-stack.md S1, S2, S7)
/// @notice Parses the two layer headers of a stacked partition, derives the shared domain and the
///         limb and chunk counts, and lays out the proof's sections in a stack context.
library SumKzgStackLayout {
    /// @notice Bytes of abi.encode(LayerHeader[]) with two headers: offset, length, 2 × five fields.
    uint256 internal constant TWO_HEADERS_BYTES = 12 * 32;
    /// @notice Rows added below layer 1 (P) and the bias bytes below layer 2 (V).
    uint256 internal constant EXTRA_ROWS = 4;
    /// @notice Final evaluations: nine opened polynomials, then M̃k(u_lo) and s_G.
    uint256 internal constant EVALS = 11;
    /// @notice Opened polynomials (Mk excluded).
    uint256 internal constant OPENED = 9;

    /// @notice A fresh stack context: the extension block at `s`, the single-layer context after it;
    ///         the free memory pointer moves past both.
    function newContext() internal pure returns (uint256 s) {
        assembly ("memory-safe") {
            s := mload(0x40)
            mstore(0x40, add(s, add(SK_SIZE, CTX_SIZE)))
        }
    }

    /// @notice The single-layer context of the stack context `s`.
    function ctx(uint256 s) internal pure returns (uint256) {
        return s + SK_SIZE;
    }

    /// @notice Reads abi.encode(LayerHeader[]) holding exactly two headers, canonically encoded, each
    ///         a valid QLinear header (as SumKzgLayout.parseHeader) with layer 2's inDim = layer 1's
    ///         outDim, whose stack is supported (`shapeOk`).
    function parseHeaders(bytes calldata headers) internal pure returns (bool ok, StackHeaders memory h) {
        if (headers.length != TWO_HEADERS_BYTES) return (false, h);
        uint256 head;
        uint256 count;
        uint256 n2;
        assembly ("memory-safe") {
            let o := headers.offset
            head := calldataload(o)
            count := calldataload(add(o, 0x20))
            mstore(add(h, 0x20), calldataload(add(o, 0x40))) // n1 = inDim
            mstore(h, calldataload(add(o, 0x60))) // m1 = outDim
            mstore(add(h, 0x40), calldataload(add(o, 0x80)))
            mstore(add(h, 0x60), calldataload(add(o, 0xa0)))
            mstore(add(h, 0x80), calldataload(add(o, 0xc0)))
            n2 := calldataload(add(o, 0xe0))
            mstore(add(h, 0xa0), calldataload(add(o, 0x100))) // m2
            mstore(add(h, 0xc0), calldataload(add(o, 0x120)))
            mstore(add(h, 0xe0), calldataload(add(o, 0x140)))
            mstore(add(h, 0x100), calldataload(add(o, 0x160)))
        }
        ok = head == 0x20 && count == 2 && n2 == h.m1 && _layerOk(h.m1, h.n1, h.mult1, h.shift1, h.act1)
            && _layerOk(h.m2, n2, h.mult2, h.shift2, h.act2) && shapeOk(h);
    }

    /// @dev The single-layer header checks of SumKzgLayout.parseHeader.
    function _layerOk(uint256 m, uint256 n, uint256 mult, uint256 shift, uint256 act) private pure returns (bool) {
        return m >= 1 && m <= SumKzgLayout.MAX_DIM && n >= 1 && n <= SumKzgLayout.MAX_DIM
            && mult < SumKzgLayout.MULTIPLIER_LIMIT && shift >= 1 && shift <= SumKzgLayout.MAX_SHIFT && act <= 1;
    }

    /// @notice The shared domain (S2): μ_i = log₂ m' of P = (m1 + 4) × n1 (which V = (m1 + 4) × m2
    ///         shares), μ_j = max(μ_j(L_P), μ_j(L_V)). ok is false if Layout.of refuses P or V, ℓ > 24,
    ///         L2 + 2 > m' or L1 > n' = 2^μ_j (S2: the limb columns of layer 1 must fit the domain).
    function domain(StackHeaders memory h) internal pure returns (bool ok, uint256 muI, uint256 muJ) {
        uint256 muJV;
        (ok, muI, muJ) = SumKzgLayout.vars(h.m1 + EXTRA_ROWS, h.n1);
        if (!ok) return (false, 0, 0);
        (ok,, muJV) = SumKzgLayout.vars(h.m1 + EXTRA_ROWS, h.m2);
        if (!ok) return (false, 0, 0);
        if (muJV > muJ) muJ = muJV;
        (, uint256 l1) = _limbs1(h.shift1);
        (, uint256 l2) = _limbs2(h.shift2);
        ok = muI + muJ <= SumKzgLayout.MAX_VARS && l2 + 2 <= (uint256(1) << muI) && l1 <= (uint256(1) << muJ);
    }

    /// @notice Whether the stack of these two (individually valid) layers is supported (`domain`).
    function shapeOk(StackHeaders memory h) internal pure returns (bool ok) {
        (ok,,) = domain(h);
    }

    /// @dev Kρ1 and L1 = Kρ1 + 2·Ku1 + 1 (S2).
    function _limbs1(uint256 k) private pure returns (uint256 kRho, uint256 limbs) {
        kRho = (k + 7) / 8;
        limbs = kRho + 2 * ((64 - k + 7) / 8 + 1) + 1;
    }

    /// @dev Kρ2 and L2 = Kρ2 + Ku2 (S2, §3).
    function _limbs2(uint256 k) private pure returns (uint256 kRho, uint256 limbs) {
        kRho = (k + 7) / 8;
        limbs = kRho + (64 - k + 7) / 8 + 1;
    }

    /// @notice Fills the stack context `s` for headers `h` (already accepted by `parseHeaders`) and a
    ///         proof at calldata `proofOffset`; returns the exact proof length (S7).
    function layout(uint256 s, StackHeaders memory h, uint256 proofOffset) internal pure returns (uint256 proofLength) {
        (, uint256 muI, uint256 muJ) = domain(h);
        _set(s, SK_M1, h.m1);
        _set(s, SK_N1, h.n1);
        _set(s, SK_MULT1, h.mult1);
        _set(s, SK_SHIFT1, h.shift1);
        _set(s, SK_ACT1, h.act1);
        _set(s, SK_M2, h.m2);
        _set(s, SK_MULT2, h.mult2);
        _set(s, SK_SHIFT2, h.shift2);
        _set(s, SK_ACT2, h.act2);
        _set(s, SK_MU_I, muI);
        _set(s, SK_MU_J, muJ);
        _set(s, SK_B, SumKzgLayout.LOG_D - muI);
        _limbLayout(s, h);
        uint256 g = (uint256(1) << (SumKzgLayout.LOG_D - muI)) - 1;
        _set(s, SK_KWP, (h.n1 + g) / g);
        _set(s, SK_KWV, (h.m2 + g) / g);
        _set(s, SK_KL1, SumKzgLayout.chunks(_get(s, SK_L1) << muI)); // K_L1 = ⌈m'·L1/D⌉
        // K_L2 = ⌈m'·(pos_V(m2 − 1) + 1)/D⌉, pos_V(m2 − 1) = (m2 − 1) + ⌊(m2 − 1)/g⌋.
        _set(s, SK_KL2, SumKzgLayout.chunks((h.m2 + (h.m2 - 1) / g) << muI));
        proofLength =
            _sections(s, proofOffset, _get(s, SK_KWP), _get(s, SK_KWV), _get(s, SK_KL1), _get(s, SK_KL2), muI + muJ);
    }

    /// @dev Kρ1, Ku1, L1, 256 + 2^{k1'}, TS1, Kρ2, L2, TS2 (S2).
    function _limbLayout(uint256 s, StackHeaders memory h) private pure {
        (uint256 kRho1, uint256 l1) = _limbs1(h.shift1);
        (uint256 kRho2, uint256 l2) = _limbs2(h.shift2);
        uint256 sub1 = 256 + (uint256(1) << (h.shift1 - 8 * (kRho1 - 1)));
        _set(s, SK_KRHO1, kRho1);
        _set(s, SK_KU1, (l1 - kRho1 - 1) / 2);
        _set(s, SK_L1, l1);
        _set(s, SK_SUB1, sub1);
        _set(s, SK_TS1, h.act1 == 1 ? sub1 + 128 : sub1);
        _set(s, SK_KRHO2, kRho2);
        _set(s, SK_L2, l2);
        _set(s, SK_TS2, 256 + (uint256(1) << (h.shift2 - 8 * (kRho2 - 1))));
    }

    /// @dev C_P[K_WP] ‖ C_V[K_WV] ‖ C_Limb1[K_L1] ‖ C_Mu1 ‖ C_Act ‖ C_Limb2[K_L2] ‖ C_Mu2 ‖ C_R1 ‖ C_R2 ‖
    ///      C_Lib ‖ C_Mk ‖ Γ ‖ C_H1[K_L1] ‖ C_H2[K_L2] ‖ sumcheck[ℓ][4] ‖ evals[11] ‖ C_A ‖ C_Q ‖
    ///      folds[d−1] ‖ foldEvals[d][3] ‖ libraEvals[4] ‖ W[4] (S7). The shared single-layer slots
    ///      get the same meaning as for an inference proof (round 1 = C_Limb1 .. Γ, round 2 = C_H1 ‖
    ///      C_H2, C_R = C_R1, P = 9 opened polynomials).
    function _sections(uint256 s, uint256 p, uint256 kwp, uint256 kwv, uint256 kl1, uint256 kl2, uint256 ell)
        private
        pure
        returns (uint256)
    {
        uint256 c = s + SK_SIZE;
        _set(s, SK_P_P, p);
        _set(s, SK_P_V, p + 128 * kwp);
        _set(c, CTX_P_W, p);
        uint256 o = p + 128 * (kwp + kwv); // C_Limb1: round 1
        _set(s, SK_P_LIMB1, o);
        _set(c, CTX_P_R1, o);
        o += 128 * kl1;
        _set(s, SK_P_MU1, o);
        _set(s, SK_P_ACT, o + 128);
        o += 256;
        _set(s, SK_P_LIMB2, o);
        o += 128 * kl2;
        _set(s, SK_P_MU2, o);
        o += 128;
        _set(s, SK_P_R1, o);
        _set(c, CTX_P_CR, o);
        o += 256;
        _set(c, CTX_P_LIB, o); // C_Lib ‖ C_Mk ‖ Γ
        o += 288; // round 2
        _set(c, CTX_N_R1, o - _get(c, CTX_P_R1));
        _set(s, SK_P_H1, o);
        _set(s, SK_P_H2, o + 128 * kl1);
        _set(c, CTX_P_R2, o);
        _set(c, CTX_N_R2, kl1 + kl2);
        o += 128 * (kl1 + kl2);
        _set(c, CTX_P_SC, o);
        o += 128 * ell;
        _set(c, CTX_P_EV, o);
        o += 32 * EVALS;
        _set(c, CTX_P_CA, o);
        o += 256;
        _set(c, CTX_P_FOLD, o);
        o += 128 * SumKzgLayout.FOLDS;
        _set(c, CTX_P_FE, o);
        o += 96 * SumKzgLayout.LOG_D;
        _set(c, CTX_P_LE, o);
        o += 128;
        _set(c, CTX_P_WQ, o);
        o += 512;
        _set(c, CTX_P_END, o);
        _set(c, CTX_KIND, KIND_INFERENCE);
        _set(c, CTX_ELL, ell);
        _set(c, CTX_MU_I, ell); // τ_A ‖ τ_B are drawn as one run of ℓ challenges (see SumKzgStackVerifier)
        _set(c, CTX_MU_J, 0);
        _set(c, CTX_NPOLY, OPENED);
        return o - p;
    }

    function _get(uint256 base, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(base, slot))
        }
    }

    function _set(uint256 base, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(base, slot), v)
        }
    }
}
