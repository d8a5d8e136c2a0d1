// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {FieldMath} from "./FieldMath.sol";
import {
    CTX_ACT,
    CTX_ALPHA,
    CTX_CLAIM,
    CTX_ELL,
    CTX_BETA,
    CTX_GAMMA,
    CTX_KAPPA,
    CTX_KIND,
    CTX_KRHO,
    CTX_LAMBDA,
    CTX_LIMBS,
    CTX_M,
    CTX_MU_I,
    CTX_MU_J,
    CTX_MULT,
    CTX_LIBRA,
    CTX_N,
    CTX_NPOLY,
    CTX_P_EV,
    CTX_P_LE,
    CTX_PV,
    CTX_RHO_L,
    CTX_SHIFT,
    CTX_SIZE,
    CTX_TAU,
    CTX_TAU2,
    CTX_TS,
    CTX_U,
    KIND_INFERENCE,
    SumKzgLayout
} from "./SumKzgLayout.sol";

/// @title The final sumcheck check of SumKZG-ML v2 (docs/proof-system.md §4, §5, §7 step 5 with
///        docs/proof-system-zk.md Z3–Z5)
/// @notice Computes the verifier's public values at the sumcheck point u (eq(τ, u_i), eq(τ″_i, u_i),
///         the restricted column sums ẽ″ / ẽW″, ẽB″ of Z3, the MLEs of x′, y′, σ, the column
///         vectors and Tα), checks claim = F(u) + ρ_L·s_G from the prover's final evaluations, and
///         the Libra identity T(β) = Q̂(β)·Z_H(β) of Z5 with the opened Libra evaluations. Every
///         public MLE costs O(its support): eq tables are split in a low and a high half, the column
///         vectors live in the first 16 columns; Tα and the Libra identity share one inversion.
/// @dev Public values are kept in the context at CTX_PV + 32·slot; the scratch memory after the
///      context holds the tables.
library SumKzgRelations {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    // Public value slots (both relations).
    uint256 private constant PV_EQ_TAU = 0x00;
    uint256 private constant PV_EQ_TAU2 = 0x20; // eq(τ″_i, u_i) over the row variables (Z3)
    uint256 private constant PV_TALPHA = 0x40;
    // Inference.
    uint256 private constant PV_X = 0x60;
    uint256 private constant PV_YS = 0x80; // δ0·ỹ′ + cu·Limb·σ̃
    uint256 private constant PV_E2 = 0xa0; // ẽ″(u_j) = Σ_{t<L} eq(τ″_j, posL(t))·eq(u_j, posL(t))
    uint256 private constant PV_D0 = 0xc0;
    uint256 private constant PV_CRHO = 0xe0;
    uint256 private constant PV_CU = 0x100;
    uint256 private constant PV_SEL = 0x120;
    uint256 private constant PV_TOP = 0x140;
    // Registration.
    uint256 private constant PV_SELW = 0x60;
    uint256 private constant PV_SELB = 0x80;
    uint256 private constant PV_DN = 0xa0;
    uint256 private constant PV_CB = 0xc0;
    uint256 private constant PV_EW2 = 0xe0; // ẽW″(u_j) = Σ_{c<n} eq(τ″_j, pos(c))·eq(u_j, pos(c))
    uint256 private constant PV_EB2 = 0x100; // ẽB″(u_j) = Σ_{t<4} eq(τ″_j, posB(t))·eq(u_j, posB(t))

    // The Libra identity (Z5): ω, ω^{N−1} = ω^127, 1/N; intermediates at CTX_LIBRA + slot.
    uint256 private constant OMEGA = 0x6898111413588742b7c68b4d7fdd60d098d0caac87f5713c5130c2c1660125be;
    uint256 private constant OMEGA_LAST = 0x60c7efec34093e9a725ce48f79bf9cd60081066e578d78bf6207cd2f20df9d12;
    uint256 private constant INV_N = 0x7305cc04834a424da2d36457f98e9455491628baf9fe5f4701ffffff02000001;
    uint256 private constant LIB_Z = 0x00; // Z_H(β) = β^N − 1
    uint256 private constant LIB_NUM = 0x20; // Σ_{k<4ℓ} w(ω^k)·ω^k/(β − ω^k) = LIB_NUM / LIB_DEN
    uint256 private constant LIB_DEN = 0x40;
    uint256 private constant LIB_D0 = 0x60; // β − 1
    uint256 private constant LIB_DLAST = 0x80; // β − ω^{N−1}

    /// @notice Whether the final sumcheck claim equals F(u) + ρ_L·s_G and the Libra identity holds
    ///         at β (false for β^N = 1 or a table value α).
    /// @param c The context, after every challenge was drawn.
    /// @param xOffset Calldata offset of x (inference only).
    /// @param yOffset Calldata offset of y (inference only).
    function finalCheck(uint256 c, uint256 xOffset, uint256 yOffset) internal view returns (bool) {
        uint256 ell;
        uint256 muI;
        uint256 kind;
        assembly ("memory-safe") {
            ell := mload(add(c, CTX_ELL))
            muI := mload(add(c, CTX_MU_I))
            kind := mload(add(c, CTX_KIND))
        }
        _store(c, PV_EQ_TAU, FieldMath.eqPoints(c + CTX_TAU, c + CTX_U, muI));
        _store(c, PV_EQ_TAU2, FieldMath.eqPoints(c + CTX_TAU2, c + CTX_U, muI));
        if (!_tAlphaAndLibra(c, ell)) return false;
        uint256 f;
        if (kind == KIND_INFERENCE) {
            _inferencePublic(c, xOffset, yOffset);
            f = _inferenceF(c);
        } else {
            _registrationPublic(c);
            f = _registrationF(c);
        }
        uint256 masked;
        assembly ("memory-safe") {
            // + ρ_L·s_G, s_G the last final evaluation (index P + 1).
            let sG := calldataload(add(mload(add(c, CTX_P_EV)), shl(5, add(mload(add(c, CTX_NPOLY)), 1))))
            masked := addmod(f, mulmod(mload(add(c, CTX_RHO_L)), sG, R), R)
        }
        return masked == _load(c, CTX_CLAIM);
    }

    // ---------------------------------------------------------------------------------------------
    // The Libra identity (Z5)
    // ---------------------------------------------------------------------------------------------

    /// @notice The Libra identity alone, as `finalCheck` runs it (for tests: u, ℓ, β, κ, the final
    ///         evaluations' offset and P, and the Libra evaluations' offset set in the context).
    function libraCheck(uint256 c, uint256 ell) internal view returns (bool) {
        if (!_libraFraction(c, ell)) return false;
        uint256 x = mulmod(
            mulmod(_load(c, CTX_LIBRA + LIB_DEN), _load(c, CTX_LIBRA + LIB_D0), R), _load(c, CTX_LIBRA + LIB_DLAST), R
        );
        return _libraIdentity(c, FieldMath.inverse(x));
    }

    /// @dev T̃α(u) into PV_TALPHA and the Libra identity, with one inversion for both; false if
    ///      β^N = 1, α is a table value (the table is undefined) or the identity fails.
    function _tAlphaAndLibra(uint256 c, uint256 ell) private view returns (bool) {
        if (!_libraFraction(c, ell)) return false;
        (uint256 num, uint256 den) = tAlpha(c, ell);
        if (den == 0) return false;
        // One inversion for 1/den and 1/X, X = LIB_DEN·LIB_D0·LIB_DLAST (all non-zero as β ∉ H).
        uint256 x = mulmod(
            mulmod(_load(c, CTX_LIBRA + LIB_DEN), _load(c, CTX_LIBRA + LIB_D0), R), _load(c, CTX_LIBRA + LIB_DLAST), R
        );
        uint256 inv = FieldMath.inverse(mulmod(den, x, R));
        _store(c, PV_TALPHA, mulmod(mulmod(num, x, R), inv, R));
        return _libraIdentity(c, mulmod(den, inv, R));
    }

    /// @dev Z_H(β) = β^N − 1 (false if 0: β ∈ H), and Σ_{k<4ℓ} w(ω^k)·ω^k/(β − ω^k) as one fraction
    ///      LIB_NUM / LIB_DEN (w(ω^{4(v−1)+e}) = u_v^e), β − 1 and β − ω^{N−1}, at CTX_LIBRA.
    function _libraFraction(uint256 c, uint256 ell) private pure returns (bool ok) {
        assembly ("memory-safe") {
            let r := R
            let beta := mload(add(c, CTX_BETA))
            let t := beta
            for { let i := 0 } lt(i, 7) { i := add(i, 1) } { t := mulmod(t, t, r) }
            let z := addmod(t, sub(r, 1), r)
            ok := iszero(iszero(z))
            let lib := add(c, CTX_LIBRA)
            mstore(add(lib, LIB_Z), z)
            let num := 0
            let den := 1
            let wk := 1 // ω^k
            let u := add(c, CTX_U)
            for { let end := add(u, shl(5, ell)) } lt(u, end) { u := add(u, 0x20) } {
                let uv := mload(u)
                let pw := 1 // u_v^e
                for { let e := 0 } lt(e, 4) { e := add(e, 1) } {
                    let d := addmod(beta, sub(r, wk), r)
                    num := addmod(mulmod(num, d, r), mulmod(mulmod(pw, wk, r), den, r), r)
                    den := mulmod(den, d, r)
                    pw := mulmod(pw, uv, r)
                    wk := mulmod(wk, OMEGA, r)
                }
            }
            mstore(add(lib, LIB_NUM), num)
            mstore(add(lib, LIB_DEN), den)
            mstore(add(lib, LIB_D0), addmod(beta, sub(r, 1), r))
            mstore(add(lib, LIB_DLAST), addmod(beta, sub(r, OMEGA_LAST), r))
        }
    }

    /// @dev T(β) = Q̂(β)·Z_H(β) with w(β) = (Z_H(β)/N)·LIB_NUM/LIB_DEN, L_0(β) = Z_H(β)/(N·(β − 1)),
    ///      L_{N−1}(β) = ω^{N−1}·Z_H(β)/(N·(β − ω^{N−1})) and
    ///      T(β) = L_0·Â(β) + κ·(β − ω^{N−1})·(Â(ωβ) − Â(β) − Lib̂(β)·w(β))
    ///             + κ²·L_{N−1}·(Â(β) + Lib̂(β)·w(β) − s_G).
    /// @param invX 1/(LIB_DEN·LIB_D0·LIB_DLAST).
    function _libraIdentity(uint256 c, uint256 invX) private pure returns (bool ok) {
        uint256 lib = c + CTX_LIBRA;
        assembly ("memory-safe") {
            let r := R
            let den := mload(add(lib, LIB_DEN))
            let d0 := mload(add(lib, LIB_D0))
            let dLast := mload(add(lib, LIB_DLAST))
            let zn := mulmod(mload(add(lib, LIB_Z)), INV_N, r)
            // w(β), L_0(β), L_{N−1}(β) over the slots LIB_NUM, LIB_DEN, LIB_D0.
            mstore(
                add(lib, LIB_NUM),
                mulmod(mulmod(zn, mload(add(lib, LIB_NUM)), r), mulmod(invX, mulmod(d0, dLast, r), r), r)
            )
            mstore(add(lib, LIB_DEN), mulmod(zn, mulmod(invX, mulmod(den, dLast, r), r), r))
            mstore(add(lib, LIB_D0), mulmod(mulmod(OMEGA_LAST, zn, r), mulmod(invX, mulmod(den, d0, r), r), r))
        }
        assembly ("memory-safe") {
            let r := R
            let le := mload(add(c, CTX_P_LE))
            let aB := calldataload(add(le, 0x20))
            let libW := mulmod(calldataload(le), mload(add(lib, LIB_NUM)), r)
            let kappa := mload(add(c, CTX_KAPPA))
            let t := mulmod(mload(add(lib, LIB_DEN)), aB, r)
            let s := addmod(calldataload(add(le, 0x60)), sub(r, addmod(aB, libW, r)), r)
            t := addmod(t, mulmod(mulmod(kappa, mload(add(lib, LIB_DLAST)), r), s, r), r)
            s := calldataload(add(mload(add(c, CTX_P_EV)), shl(5, add(mload(add(c, CTX_NPOLY)), 1)))) // s_G
            s := addmod(addmod(aB, libW, r), sub(r, s), r)
            t := addmod(t, mulmod(mulmod(mulmod(kappa, kappa, r), mload(add(lib, LIB_D0)), r), s, r), r)
            ok := eq(t, mulmod(calldataload(add(le, 0x40)), mload(add(lib, LIB_Z)), r))
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Public values
    // ---------------------------------------------------------------------------------------------

    /// @dev T̃α(u) = Σ_{f<TS} eq(u, f)/(α − t_f), returned as one fraction (N, D) (the caller
    ///      inverts D together with the Libra identity's denominators).
    ///      t_f = f for f < 256 and, for inference, t_f = λ + (f − 256) above (§3); f has bT = 8 or 9
    ///      bits and eq(u, f) = w[f mod 8]·wLo[(f div 8) mod 8]·wHi[f div 64]·Π_{v>bT}(1 − u_v).
    ///      Eight consecutive entries f0 + i share a = α − t_{f0}: Σ_i w_i/(a − i) = P(a)/Q(a) with
    ///      Q(a) = Π_{i<8}(a − i) = t(t + 6)(t + 10)(t + 12), t = a(a − 7), and P of degree 7 whose
    ///      coefficients are fixed combinations of the w_i (`groupCoefficients`): 14 mulmods per 8
    ///      entries instead of 20.
    function tAlpha(uint256 c, uint256 ell) internal pure returns (uint256, uint256) {
        uint256 ts = _load(c, CTX_TS);
        uint256 bT = ts > 256 ? 9 : 8;
        uint256 u = c + CTX_U;
        // Scratch: w (8 words), wLo (8), wHi (up to 8), P's coefficients (7), α + r, α − λ + 256 + r.
        uint256 w = c + CTX_SIZE;
        FieldMath.eqTable(w, u, 3);
        FieldMath.eqTable(w + 0x100, u + 3 * 32, 3);
        FieldMath.eqTable(w + 0x200, u + 6 * 32, bT - 6);
        groupCoefficients(w, w + 0x300);
        assembly ("memory-safe") {
            // α + r ≡ α keeps a = α − t_f unreduced and positive (α, r < 2^255, f < 512); from 256
            // on, a = (α − λ + 256) − f (groups of 8 and blocks of 64 never straddle 256).
            let r := R
            let alpha := add(mload(add(c, CTX_ALPHA)), r)
            mstore(add(w, 0x3e0), alpha)
            mstore(add(w, 0x400), add(addmod(alpha, sub(r, mload(add(c, CTX_LAMBDA))), r), add(r, 256)))
        }
        (uint256 num, uint256 den) = _tAlphaSum(ts, w);
        return (mulmod(FieldMath.eqZero(u + 32 * bT, ell - bT), num, R), den);
    }

    /// @dev The fraction N/D of `tAlpha` over the scratch it prepared at `w`.
    function _tAlphaSum(uint256 ts, uint256 w) private pure returns (uint256 num, uint256 den) {
        assembly ("memory-safe") {
            // P(a) by Horner (p_7 = 1) and Q(a), for a group starting at a (unreduced, ≥ r).
            function group(a, coefficients, r) -> pa, qa {
                pa := addmod(a, mload(add(coefficients, 0xc0)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(coefficients, 0xa0)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(coefficients, 0x80)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(coefficients, 0x60)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(coefficients, 0x40)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(coefficients, 0x20)), r)
                pa := addmod(mulmod(pa, a, r), mload(coefficients), r)
                let t := mulmod(a, sub(a, 7), r)
                qa := mulmod(mulmod(t, add(t, 6), r), mulmod(add(t, 10), add(t, 12), r), r)
            }
            // Σ over the groups f = base, base + 8, .. < end (one block of 64 at most) of
            // wLo[group]·P/Q, as a fraction nb/db.
            function block(base, end, scratch, r) -> nb, db {
                db := 1
                for { let f := base } lt(f, end) { f := add(f, 8) } {
                    let a := sub(mload(add(scratch, 0x3e0)), f)
                    if gt(f, 255) { a := sub(mload(add(scratch, 0x400)), f) }
                    let pa, qa := group(a, add(scratch, 0x300), r)
                    let wl := mload(add(add(scratch, 0x100), shl(2, and(f, 63))))
                    nb := addmod(mulmod(nb, qa, r), mulmod(mulmod(wl, pa, r), db, r), r)
                    db := mulmod(db, qa, r)
                }
            }
            let r := R
            let full := and(ts, not(7))
            den := 1
            for { let base := 0 } lt(base, full) { base := add(base, 64) } {
                let end := add(base, 64)
                if gt(end, full) { end := full }
                let nb, db := block(base, end, w, r)
                let h := mload(add(add(w, 0x200), shr(1, base)))
                num := addmod(mulmod(num, db, r), mulmod(mulmod(h, nb, r), den, r), r)
                den := mulmod(den, db, r)
            }
            // The last TS mod 8 entries (2 or 4, when k' < 3) one by one.
            for { let f := full } lt(f, ts) { f := add(f, 1) } {
                let e := mulmod(mload(add(w, shl(5, and(f, 7)))), mload(add(add(w, 0x100), shl(2, and(f, 56)))), r)
                e := mulmod(e, mload(add(add(w, 0x200), shl(5, shr(6, f)))), r)
                let a := sub(mload(add(w, 0x400)), f)
                num := addmod(mulmod(num, a, r), mulmod(e, den, r), r)
                den := mulmod(den, a, r)
            }
        }
    }

    /// @dev p_k (k < 7) of P(a) = Σ_{i<8} w_i·Π_{j≠i, j<8}(a − j): p_k = (−1)^(7−k)·Σ_i w_i·|c_{i,k}|,
    ///      |c_{i,k}| the (integer) coefficients of a^k in Π_{j≠i}(a − j); p_0 = −5040·w_0.
    function groupCoefficients(uint256 w, uint256 out) internal pure {
        assembly ("memory-safe") {
            // Σ_i w_i·c_i over the 8 words at w.
            function dot8(p, c0, c1, c2, c3, c4, c5, c6, c7, r) -> s {
                s := addmod(mulmod(mload(p), c0, r), mulmod(mload(add(p, 0x20)), c1, r), r)
                s := addmod(s, mulmod(mload(add(p, 0x40)), c2, r), r)
                s := addmod(s, mulmod(mload(add(p, 0x60)), c3, r), r)
                s := addmod(s, mulmod(mload(add(p, 0x80)), c4, r), r)
                s := addmod(s, mulmod(mload(add(p, 0xa0)), c5, r), r)
                s := addmod(s, mulmod(mload(add(p, 0xc0)), c6, r), r)
                s := addmod(s, mulmod(mload(add(p, 0xe0)), c7, r), r)
            }
            let r := R
            mstore(out, mulmod(sub(r, 5040), mload(w), r))
            mstore(add(out, 0x20), dot8(w, 13068, 5040, 2520, 1680, 1260, 1008, 840, 720, r))
            mstore(add(out, 0x40), addmod(sub(r, dot8(w, 13132, 8028, 5274, 3796, 2952, 2412, 2038, 1764, r)), 0, r))
            mstore(add(out, 0x60), dot8(w, 6769, 5104, 3929, 3112, 2545, 2144, 1849, 1624, r))
            mstore(add(out, 0x80), addmod(sub(r, dot8(w, 1960, 1665, 1420, 1219, 1056, 925, 820, 735, r)), 0, r))
            mstore(add(out, 0xa0), dot8(w, 322, 295, 270, 247, 226, 207, 190, 175, r))
            mstore(add(out, 0xc0), addmod(sub(r, dot8(w, 28, 27, 26, 25, 24, 23, 22, 21, r)), 0, r))
        }
    }

    /// @dev x̃′(u_j), ỹ′(u_i), σ̃(u_i) and the column vectors δ0, cρ, cu, sel, top at u_j.
    function _inferencePublic(uint256 c, uint256 xOffset, uint256 yOffset) private pure {
        _columnsPublic(c, xOffset);
        _rowsPublic(c, yOffset);
    }

    /// @dev Columns: variables μ_i+1..ℓ, split in a low part of a ≥ 4 variables (so the first 16
    ///      columns are in the low table) and a high part. x′(pos(j)) = x_j, x′(pos(n)) = 1, 0
    ///      elsewhere, pos(j) = j + ⌊j/g⌋ with g = 2^b − 1, b = d − μ_i (§4, §5), so x̃′ =
    ///      Σ_{j<n} (x_j + 128)·eq(u_j, pos(j)) − 128·selW̃ + δñ.
    function _columnsPublic(uint256 c, uint256 xOffset) private pure {
        uint256 muJ = _load(c, CTX_MU_J);
        uint256 a = (muJ + 1) / 2;
        if (a < 4) a = 4;
        uint256 tLo = c + CTX_SIZE;
        // The high table after 2^a + 8 words (room for a padded low table).
        uint256 tHi = tLo + (uint256(32) << a) + 0x100;
        uint256 w = c + CTX_U + 32 * _load(c, CTX_MU_I);
        FieldMath.eqTable(tHi, w + 32 * a, muJ - a);
        uint256 dot = _xDot(c, xOffset, tLo, tHi, a);
        uint256 n = _load(c, CTX_N);
        (uint256 selW, uint256 dn) = _weightColumns(0, w, SumKzgLayout.LOG_D - _load(c, CTX_MU_I), muJ, n);
        dot = addmod(dot, R - mulmod(128, selW, R), R);
        _store(c, PV_X, addmod(dot, dn, R));
        _columns(c, tLo, tHi, a);
        _inferenceRestricted(c, w, muJ);
    }

    /// @dev Σ_{j<n} (x_j + 128)·eq(u_j, pos(j)) over x's bytes in blocks that share one high table
    ///      entry (the columns f with the same f div 2^a), skipping the blinding columns
    ///      (f mod 2^b = g); leaves the low table eq(u_j, f), f < 16, at `tLo` for `_columns`.
    ///      When a ≥ b each low block holds 2^(a−b) whole chunk column groups: the low table is
    ///      built without its blinding columns (`_compactEqTable`, B = 2^(a−b)·g words, block h
    ///      holds x_{hB..hB+B}) and padded with 8 zeros, so that every full block runs 8 bytes at a
    ///      time; its first g ≥ 15 words (b ≥ 4) are the plain table's. Otherwise (a < b) the last
    ///      low block of each chunk holds 2^a − 1 data columns.
    function _xDot(uint256 c, uint256 xOffset, uint256 tLo, uint256 tHi, uint256 a) private pure returns (uint256) {
        uint256 b = SumKzgLayout.LOG_D - _load(c, CTX_MU_I);
        uint256 w = c + CTX_U + 32 * _load(c, CTX_MU_I);
        uint256 n = _load(c, CTX_N);
        if (a < b) {
            // Per chunk: g = 2^b − 1 bytes in blocks of 2^a, the last one 2^a − 1 long.
            FieldMath.eqTable(tLo, w, a);
            uint256 g = (uint256(1) << b) - 1;
            uint256 dot;
            for (uint256 done; done < n; done += g) {
                uint256 len = n - done < g ? n - done : g;
                dot = addmod(dot, _dotBytes(xOffset + done, len, tLo, tHi, uint256(1) << a, uint256(1) << a, 0), R);
                tHi += uint256(32) << (b - a);
            }
            return dot;
        }
        uint256 blockLen = ((uint256(1) << b) - 1) << (a - b);
        // For b < 4 the limb columns of `_columns` may include blinding columns: the compacted
        // table goes after the high table and the plain one to tLo.
        uint256 tX = b >= 4 ? tLo : tHi + (uint256(32) << (_load(c, CTX_MU_J) - a));
        _compactEqTable(tX, w, a, b);
        if (b < 4) FieldMath.eqTable(tLo, w, a);
        return _dotBytes(xOffset, n, tX, tHi, blockLen, (blockLen + 7) & ~uint256(7), 0);
    }

    /// @dev dst[q·g + t] = eq(w, q·2^b + t) for t < g = 2^b − 1, q < 2^(a−b) (the eq table of a ≥ b
    ///      variables without the entries f mod 2^b = g), then 8 zero words: the table of b
    ///      variables less its last entry, doubled over the variables b..a−1 (FieldMath.eqTable's
    ///      rule, with steps of g·2^(v−b) words).
    function _compactEqTable(uint256 dst, uint256 w, uint256 a, uint256 b) private pure {
        FieldMath.eqTable(dst, w, b);
        assembly ("memory-safe") {
            let len := shl(5, sub(shl(b, 1), 1)) // g words
            for { let v := b } lt(v, a) { v := add(v, 1) } {
                let wv := mload(add(w, shl(5, v)))
                let end := add(dst, len)
                for { let p := dst } lt(p, end) { p := add(p, 0x20) } {
                    let t := mload(p)
                    let hi := mulmod(t, wv, R)
                    mstore(add(p, len), hi)
                    mstore(p, addmod(t, sub(R, hi), R))
                }
                len := shl(1, len)
            }
            let z := add(dst, len)
            for { let e := add(z, 0x100) } lt(z, e) { z := add(z, 0x20) } { mstore(z, 0) }
        }
    }

    /// @dev selW̃(u_j) = Σ_{j<n} eq(u_j, pos(j)) and δñ(u_j) = eq(u_j, pos(n)) in O(μ_j) (§4); with
    ///      `t` ≠ 0 (the point τ″_j, Z3) every eq(u_j, f) is replaced by eq(τ″_j, f)·eq(u_j, f), so
    ///      the first value is ẽW″(u_j). With F = ⌊n/g⌋ and r = n mod g, pos(n) = 2^b·F + r: the data
    ///      columns are the first g columns of each chunk column group κ < F and the first r of group
    ///      F, so with e_hi, S_hi the term and prefix sums over the chunk variables u_{b..} and e_lo,
    ///      S_lo those over the low variables u_{..b} (the sum over a whole group less its blinding
    ///      column g is T_lo − Π_{v<b} a_v, T_lo = Π_{v<b}(a_v + b_v), = 1 − Π_{v<b} u_v when t = 0):
    ///      sum = S_hi(F)·(T_lo − Π_{v<b} a_v) + e_hi(F)·S_lo(r), δñ = e_hi(F)·e_lo(r).
    function _weightColumns(uint256 t, uint256 w, uint256 b, uint256 muJ, uint256 n)
        private
        pure
        returns (uint256 selW, uint256 dn)
    {
        uint256 g = (uint256(1) << b) - 1;
        uint256 full = n / g;
        (uint256 sHi, uint256 eHi,,) = _walk(t == 0 ? 0 : t + 32 * b, w + 32 * b, muJ - b, full);
        (uint256 sLo, uint256 eLo, uint256 ones, uint256 total) = _walk(t, w, b, n - full * g);
        selW = addmod(mulmod(sHi, addmod(total, R - ones, R), R), mulmod(eHi, sLo, R), R);
        dn = mulmod(eHi, eLo, R);
    }

    /// @dev Over `mu` variables with a_v = w_v, b_v = 1 − w_v (t = 0) or a_v = t_v·w_v,
    ///      b_v = (1 − t_v)(1 − w_v) (the point t ≠ 0) and term(f) = Π_v (f_v ? a_v : b_v) (eq(w, f),
    ///      or eq(t, f)·eq(w, f)): sum = Σ_{f<k} term(f), atK = term(k), ones = Π_v a_v,
    ///      total = Π_v (a_v + b_v). From the lowest bit up, over the first v variables: a 1 bit of
    ///      k takes every f with bit v clear (b_v·total so far) plus those with it set and below k
    ///      (a_v·sum so far); a 0 bit only the latter with b_v (the free low bits sum to `total`,
    ///      which is 1 only for t = 0).
    function _walk(uint256 t, uint256 w, uint256 mu, uint256 k)
        private
        pure
        returns (uint256 sum, uint256 atK, uint256 ones, uint256 total)
    {
        assembly ("memory-safe") {
            let r := R
            atK := 1
            ones := 1
            total := 1
            for { let v := 0 } lt(v, mu) { v := add(v, 1) } {
                let x := mload(add(w, shl(5, v)))
                let a := x
                let bv := addmod(1, sub(r, x), r)
                if t {
                    let y := mload(add(t, shl(5, v)))
                    a := mulmod(x, y, r)
                    bv := mulmod(bv, addmod(1, sub(r, y), r), r)
                }
                switch and(shr(v, k), 1)
                case 1 {
                    sum := addmod(mulmod(bv, total, r), mulmod(a, sum, r), r)
                    atK := mulmod(atK, a, r)
                }
                default {
                    sum := mulmod(bv, sum, r)
                    atK := mulmod(atK, bv, r)
                }
                ones := mulmod(ones, a, r)
                total := mulmod(total, addmod(a, bv, r), r)
            }
        }
    }

    /// @dev Rows: variables 1..μ_i, split in halves. y′ and σ enter F only as δ0·ỹ′ + cu·Limb·σ̃ (see
    ///      `_inferenceA`), so that one sum is computed, through a table (128 words for relu, 256
    ///      for none) coef(y) = δ0·y + cu·Limb·σ(y): σ = +1 where y = 127, −1 where y = lo (0 for
    ///      relu, −128 for none). Padded rows have y′ = 0, so σ = −1 there for relu:
    ///      Σ_{i≥m} eq = 1 − Σ_{i<m} eq.
    function _rowsPublic(uint256 c, uint256 yOffset) private pure {
        uint256 muI = _load(c, CTX_MU_I);
        bool relu = _load(c, CTX_ACT) == 1;
        uint256 tLo = c + CTX_SIZE;
        uint256 a = (muI + 1) / 2;
        uint256 tHi = tLo + (uint256(32) << a);
        FieldMath.eqTable(tLo, c + CTX_U, a);
        FieldMath.eqTable(tHi, c + CTX_U + 32 * a, muI - a);
        uint256 table = tHi + (uint256(32) << (muI - a));
        uint256 w2;
        assembly ("memory-safe") {
            // cu·Limb(u)
            w2 := mulmod(mload(add(add(c, CTX_PV), PV_CU)), calldataload(add(mload(add(c, CTX_P_EV)), 0x20)), R)
        }
        _rowTable(table, _load(c, CTX_PV + PV_D0), w2, relu);
        uint256 m = _load(c, CTX_M);
        uint256 ys = _dotBytes(yOffset, m, tLo, tHi, uint256(1) << a, uint256(1) << a, table);
        if (relu) {
            // Σ_{i<m} eq(u_i, i); the closed form needs m < 2^μ_i, and the sum over all rows is 1.
            uint256 count = m == uint256(1) << muI ? 1 : FieldMath.eqPrefixSum(c + CTX_U, muI, m);
            ys = addmod(ys, R - mulmod(w2, addmod(1, R - count, R), R), R);
        }
        _store(c, PV_YS, ys);
    }

    /// @dev δ0, cρ, cu, sel, top at u_j: limb column t sits at posL(t) = t + ⌊t/g⌋ (Z1, ≤ 18 < n').
    ///      For L ≤ g (every m' ≤ 256) posL(t) = t and `_columnsFirst` reads the low table's first L
    ///      words (the compacted table of `_xDot` agrees with the plain one on its first g ≥ 15).
    ///      Otherwise (b = log₂ cpc ≤ 3, where `tLo` holds the plain table) eq(u_j, posL(t)) is the
    ///      low table's word posL(t) mod 2^a times the high table's word posL(t) div 2^a (`tHi`).
    function _columns(uint256 c, uint256 tLo, uint256 tHi, uint256 a) private pure {
        uint256 kRho = _load(c, CTX_KRHO);
        uint256 limbs = _load(c, CTX_LIMBS);
        uint256 g = (uint256(1) << (SumKzgLayout.LOG_D - _load(c, CTX_MU_I))) - 1;
        if (limbs <= g) {
            // posL(t) = t < 16: all in the low table's first block.
            _columnsFirst(c, tLo, _load(tHi, 0), kRho, limbs);
            return;
        }
        uint256 cRho;
        uint256 cU;
        uint256 sel;
        uint256 top;
        assembly ("memory-safe") {
            for { let t := 0 } lt(t, limbs) { t := add(t, 1) } {
                let p := add(t, div(t, g))
                let e :=
                    mulmod(mload(add(tLo, shl(5, and(p, sub(shl(a, 1), 1))))), mload(add(tHi, shl(5, shr(a, p)))), R)
                sel := addmod(sel, e, R)
                switch lt(t, kRho)
                case 1 { cRho := addmod(cRho, mulmod(shl(shl(3, t), 1), e, R), R) }
                default { cU := addmod(cU, mulmod(shl(shl(3, sub(t, kRho)), 1), e, R), R) }
                if eq(t, sub(kRho, 1)) { top := e }
            }
        }
        _store(c, PV_D0, mulmod(_load(tLo, 0), _load(tHi, 0), R));
        _store(c, PV_CRHO, cRho);
        _store(c, PV_CU, cU);
        _store(c, PV_SEL, sel);
        _store(c, PV_TOP, top);
    }

    /// @dev δ0, cρ, cu, sel, top when posL(t) = t (L ≤ g: the first chunk holds every limb column),
    ///      from the low column table's first L words and `h0` = eq(high column variables, 0).
    function _columnsFirst(uint256 c, uint256 tLo, uint256 h0, uint256 kRho, uint256 limbs) private pure {
        uint256 cRho;
        uint256 cU;
        uint256 sel;
        assembly ("memory-safe") {
            let r := R
            for { let t := 0 } lt(t, limbs) { t := add(t, 1) } {
                let e := mload(add(tLo, shl(5, t)))
                sel := addmod(sel, e, r)
                switch lt(t, kRho)
                case 1 { cRho := addmod(cRho, mulmod(shl(shl(3, t), 1), e, r), r) }
                default { cU := addmod(cU, mulmod(shl(shl(3, sub(t, kRho)), 1), e, r), r) }
            }
        }
        _store(c, PV_D0, mulmod(_load(tLo, 0), h0, R));
        _store(c, PV_CRHO, mulmod(cRho, h0, R));
        _store(c, PV_CU, mulmod(cU, h0, R));
        _store(c, PV_SEL, mulmod(sel, h0, R));
        _store(c, PV_TOP, mulmod(_load(tLo, 32 * (kRho - 1)), h0, R));
    }

    /// @dev ẽ″(u_j) = Σ_{t<L} eq(τ″_j, posL(t))·eq(u_j, posL(t)) (Z3) over the column point
    ///      `w` = u_j: a prefix sum when posL(t) = t (L ≤ g), else `_weightColumns`' closed form
    ///      (posL is the weight layout's pos).
    function _inferenceRestricted(uint256 c, uint256 w, uint256 muJ) private pure {
        uint256 muI = _load(c, CTX_MU_I);
        uint256 b = SumKzgLayout.LOG_D - muI;
        uint256 limbs = _load(c, CTX_LIMBS);
        uint256 e2;
        if (limbs < (uint256(1) << b)) (e2,,,) = _walk(c + CTX_TAU2 + 32 * muI, w, muJ, limbs);
        else (e2,) = _weightColumns(c + CTX_TAU2 + 32 * muI, w, b, muJ, limbs);
        _store(c, PV_E2, e2);
    }

    /// @dev ẽW″(u_j) and ẽB″(u_j) (Z3) over the column point `w` = u_j (the bias limbs at
    ///      posB(t) = t + ⌊t/g⌋, t < 4: `_weightColumns`' closed form with n = 4).
    function _registrationRestricted(uint256 c, uint256 w, uint256 muI, uint256 muJ) private pure {
        uint256 tau2j = c + CTX_TAU2 + 32 * muI;
        (uint256 ew2,) = _weightColumns(tau2j, w, SumKzgLayout.LOG_D - muI, muJ, _load(c, CTX_N));
        _store(c, PV_EW2, ew2);
        uint256 eb2;
        if (muI < SumKzgLayout.LOG_D - 2) (eb2,,,) = _walk(tau2j, w, muJ, 4); // g ≥ 7: posB(t) = t
        else (eb2,) = _weightColumns(tau2j, w, SumKzgLayout.LOG_D - muI, muJ, 4);
        _store(c, PV_EB2, eb2);
    }

    /// @dev selW, δn (closed forms, `_weightColumns`), selB and cb (the bias limb columns
    ///      posB(t) = t + ⌊t/g⌋ ≤ 6, t < 4, in the first 8 columns) at u_j, and the restricted sums
    ///      of Z3.
    function _registrationPublic(uint256 c) private pure {
        uint256 muI = _load(c, CTX_MU_I);
        uint256 muJ = _load(c, CTX_MU_J);
        uint256 w = c + CTX_U + 32 * muI;
        (uint256 selW, uint256 dn) = _weightColumns(0, w, SumKzgLayout.LOG_D - muI, muJ, _load(c, CTX_N));
        _store(c, PV_SELW, selW);
        _store(c, PV_DN, dn);
        _registrationRestricted(c, w, muI, muJ);
        _biasColumns(c, w, muI, muJ);
    }

    /// @dev selB and cb at u_j: posB(t) = t for g ≥ 7 (the first 4 columns), else ≤ 6 (the first 8),
    ///      from an eq table of the low v = 2 or 3 column variables and eq(the others, 0).
    function _biasColumns(uint256 c, uint256 w, uint256 muI, uint256 muJ) private pure {
        uint256 t = c + CTX_SIZE;
        uint256 v = muI < SumKzgLayout.LOG_D - 2 ? 2 : 3;
        FieldMath.eqTable(t, w, v);
        uint256 z = FieldMath.eqZero(w + 32 * v, muJ - v);
        uint256 t0;
        uint256 t1;
        uint256 t2;
        uint256 t3;
        assembly ("memory-safe") {
            // posB(t) = t + ⌊t/g⌋ for t = 1, 2, 3 (g = 2^b − 1 ≥ 1).
            let g := sub(shl(sub(12, muI), 1), 1)
            t0 := mload(t)
            t1 := mload(add(t, shl(5, add(1, div(1, g)))))
            t2 := mload(add(t, shl(5, add(2, div(2, g)))))
            t3 := mload(add(t, shl(5, add(3, div(3, g)))))
        }
        uint256 selB = addmod(addmod(t0, t1, R), addmod(t2, t3, R), R);
        uint256 cb =
            addmod(addmod(t0, mulmod(1 << 8, t1, R), R), addmod(mulmod(1 << 16, t2, R), mulmod(1 << 24, t3, R), R), R);
        _store(c, PV_SELB, mulmod(selB, z, R));
        _store(c, PV_CB, mulmod(cb, z, R));
    }

    /// @dev Σ_i coef(v_i)·lo[i mod L]·hi[i div L] over a byte vector v of `len` bytes at calldata
    ///      `offset`: blocks of L = `blockLen` bytes, byte k of a block with the low table word lo[k]
    ///      (at `lo`), block h with hi[h] (at `hi`). A full block runs over `blockWords` table words:
    ///      L, or L rounded up to a multiple of 8 when the words after lo[L − 1] are 0 (then it runs
    ///      8 bytes at a time to its end; the extra bytes meet zeros). coef(b) is b ^ 0x80
    ///      (= int8(b) + 128) when `table` is 0, else the word at `table + 32·b`.
    function _dotBytes(
        uint256 offset,
        uint256 len,
        uint256 lo,
        uint256 hi,
        uint256 blockLen,
        uint256 blockWords,
        uint256 table
    ) private pure returns (uint256 acc) {
        assembly ("memory-safe") {
            // Σ over the table words q..qe of coef(byte)·word, 8 bytes of calldata at a time.
            function plainBlock(p, q, qe) -> s {
                let r := R
                for {} lt(add(q, 0xe0), qe) { q := add(q, 0x100) } {
                    let w := xor(calldataload(p), 0x8080808080808080808080808080808080808080808080808080808080808080)
                    s := addmod(s, mulmod(byte(0, w), mload(add(q, 0x0)), r), r)
                    s := addmod(s, mulmod(byte(1, w), mload(add(q, 0x20)), r), r)
                    s := addmod(s, mulmod(byte(2, w), mload(add(q, 0x40)), r), r)
                    s := addmod(s, mulmod(byte(3, w), mload(add(q, 0x60)), r), r)
                    s := addmod(s, mulmod(byte(4, w), mload(add(q, 0x80)), r), r)
                    s := addmod(s, mulmod(byte(5, w), mload(add(q, 0xa0)), r), r)
                    s := addmod(s, mulmod(byte(6, w), mload(add(q, 0xc0)), r), r)
                    s := addmod(s, mulmod(byte(7, w), mload(add(q, 0xe0)), r), r)
                    p := add(p, 8)
                }
                for {} lt(q, qe) { q := add(q, 0x20) } {
                    s := addmod(s, mulmod(xor(shr(248, calldataload(p)), 0x80), mload(q), r), r)
                    p := add(p, 1)
                }
            }
            function tableBlock(p, q, qe, tbl) -> s {
                let r := R
                for {} lt(add(q, 0xe0), qe) { q := add(q, 0x100) } {
                    let w := calldataload(p)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(0, w)))), mload(add(q, 0x0)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(1, w)))), mload(add(q, 0x20)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(2, w)))), mload(add(q, 0x40)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(3, w)))), mload(add(q, 0x60)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(4, w)))), mload(add(q, 0x80)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(5, w)))), mload(add(q, 0xa0)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(6, w)))), mload(add(q, 0xc0)), r), r)
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, byte(7, w)))), mload(add(q, 0xe0)), r), r)
                    p := add(p, 8)
                }
                for {} lt(q, qe) { q := add(q, 0x20) } {
                    s := addmod(s, mulmod(mload(add(tbl, shl(5, shr(248, calldataload(p))))), mload(q), r), r)
                    p := add(p, 1)
                }
            }
            function blockSum(p, q, qe, tbl) -> s {
                switch tbl
                case 0 { s := plainBlock(p, q, qe) }
                default { s := tableBlock(p, q, qe, tbl) }
            }
            len := add(offset, len) // the end
            let qe := add(lo, shl(5, blockWords))
            // The full blocks.
            for {} iszero(lt(sub(len, offset), blockLen)) {} {
                acc := addmod(acc, mulmod(blockSum(offset, lo, qe, table), mload(hi), R), R)
                offset := add(offset, blockLen)
                hi := add(hi, 0x20)
            }
            // The last, shorter one.
            if lt(offset, len) {
                qe := add(lo, shl(5, sub(len, offset)))
                acc := addmod(acc, mulmod(blockSum(offset, lo, qe, table), mload(hi), R), R)
            }
        }
    }

    /// @dev Writes at `table` the words coef(b) = w1·int8(b) + w2·σ(b) for the bytes b < 0x80 and, unless
    ///      `relu` (whose outputs are all below 0x80), b ≥ 0x80 too; σ(b) = +1 for b = 0x7f, −1 for
    ///      b = lo (0x00 for relu, 0x80 for none), else 0.
    function _rowTable(uint256 table, uint256 w1, uint256 w2, bool relu) private pure {
        assembly ("memory-safe") {
            // Eight consecutive words from t on, stepping by w1; returns the next t.
            function run8(p, t, w1_, r) -> next {
                mstore(add(p, 0x0), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0x20), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0x40), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0x60), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0x80), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0xa0), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0xc0), t)
                t := addmod(t, w1_, r)
                mstore(add(p, 0xe0), t)
                t := addmod(t, w1_, r)
                next := t
            }
            let r := R
            // b = 0..127: b·w1.
            let t := 0
            for { let p := table } lt(p, add(table, 0x1000)) { p := add(p, 0x100) } { t := run8(p, t, w1, r) }
            let low := table
            switch relu
            case 0 {
                // b = 128..255: (b − 256)·w1, from −128·w1.
                t := addmod(sub(r, mulmod(128, w1, r)), 0, r)
                for { let p := add(table, 0x1000) } lt(p, add(table, 0x2000)) { p := add(p, 0x100) } {
                    t := run8(p, t, w1, r)
                }
                low := add(table, 0x1000)
            }
            let p := add(table, shl(5, 0x7f))
            mstore(p, addmod(mload(p), w2, r))
            mstore(low, addmod(mload(low), sub(r, w2), r))
        }
    }

    // ---------------------------------------------------------------------------------------------
    // F(u)
    // ---------------------------------------------------------------------------------------------

    /// @dev F = eq(τ,i)·A + γ·B1 + γ²·B2 (§5, B2 as in Z3) from the evaluations Ŵ, Limb, H, Mu.
    function _inferenceF(uint256 c) private pure returns (uint256 f) {
        uint256 aTerm = _inferenceA(c);
        assembly ("memory-safe") {
            let r := R
            let pv := add(c, CTX_PV)
            let ev := mload(add(c, CTX_P_EV))
            let hEv := calldataload(add(ev, 0x40))
            let sel := mload(add(pv, PV_SEL))
            // B1 = sel·H − Mu·Tα
            let b1 :=
                addmod(
                    mulmod(sel, hEv, r),
                    sub(r, mulmod(calldataload(add(ev, 0x60)), mload(add(pv, PV_TALPHA)), r)),
                    r
                )
            // B2 = eq(τ″_i, u_i)·ẽ″(u_j)·(H·(α − Limb − λ·top) − 1) (Z3)
            let t :=
                addmod(calldataload(add(ev, 0x20)), mulmod(mload(add(c, CTX_LAMBDA)), mload(add(pv, PV_TOP)), r), r)
            t := addmod(mload(add(c, CTX_ALPHA)), sub(r, t), r)
            let b2 := mulmod(mload(add(pv, PV_E2)), addmod(mulmod(hEv, t, r), sub(r, 1), r), r)
            let gamma := mload(add(c, CTX_GAMMA))
            f := mulmod(mload(add(pv, PV_EQ_TAU)), aTerm, r)
            f := addmod(f, mulmod(gamma, b1, r), r)
            f := addmod(f, mulmod(mulmod(mulmod(gamma, gamma, r), mload(add(pv, PV_EQ_TAU2)), r), b2, r), r)
        }
    }

    /// @dev A = M·W′·x′ + δ0·(2^{k−1} − 2^k·y′) − (cρ + 2^k·σ·cu)·Limb at u.
    function _inferenceA(uint256 c) private pure returns (uint256 aTerm) {
        assembly ("memory-safe") {
            let r := R
            let pv := add(c, CTX_PV)
            let ev := mload(add(c, CTX_P_EV))
            let k := mload(add(c, CTX_SHIFT))
            let twoK := shl(k, 1)
            aTerm := mulmod(mulmod(mload(add(c, CTX_MULT)), calldataload(ev), r), mload(add(pv, PV_X)), r)
            // + δ0·2^{k−1} − 2^k·(δ0·ỹ′ + cu·Limb·σ̃) − cρ·Limb
            aTerm := addmod(aTerm, mulmod(mload(add(pv, PV_D0)), shl(sub(k, 1), 1), r), r)
            aTerm := addmod(aTerm, sub(r, mulmod(twoK, mload(add(pv, PV_YS)), r)), r)
            aTerm := addmod(aTerm, sub(r, mulmod(mload(add(pv, PV_CRHO)), calldataload(add(ev, 0x20)), r)), r)
        }
    }

    /// @dev F = eq(τ,i)·A_R + γ·B1 + γ²·B2W + γ³·B2B (§4, B2W and B2B as in Z3) from the
    ///      evaluations W′, BL, HW, HB, Mu.
    function _registrationF(uint256 c) private pure returns (uint256 f) {
        uint256 b2 = _registrationB2(c);
        assembly ("memory-safe") {
            let r := R
            let pv := add(c, CTX_PV)
            let ev := mload(add(c, CTX_P_EV))
            // A_R = δn·(W′ + 2^31) − cb·BL
            let t := mulmod(mload(add(pv, PV_DN)), addmod(calldataload(ev), 0x80000000, r), r)
            t := addmod(t, sub(r, mulmod(mload(add(pv, PV_CB)), calldataload(add(ev, 0x20)), r)), r)
            f := mulmod(mload(add(pv, PV_EQ_TAU)), t, r)
            // B1 = selW·HW + selB·HB − Mu·Tα
            t := mulmod(mload(add(pv, PV_SELW)), calldataload(add(ev, 0x40)), r)
            t := addmod(t, mulmod(mload(add(pv, PV_SELB)), calldataload(add(ev, 0x60)), r), r)
            t := addmod(t, sub(r, mulmod(calldataload(add(ev, 0x80)), mload(add(pv, PV_TALPHA)), r)), r)
            let gamma := mload(add(c, CTX_GAMMA))
            f := addmod(f, mulmod(gamma, t, r), r)
            // γ²·eq(τ″_i, u_i)·(ẽW″·(…) + γ·ẽB″·(…))
            t := mulmod(mulmod(gamma, gamma, r), mload(add(pv, PV_EQ_TAU2)), r)
            f := addmod(f, mulmod(t, b2, r), r)
        }
    }

    /// @dev ẽW″·(HW·(α − W′ − 128) − 1) + γ·ẽB″·(HB·(α − BL) − 1) at u (B2W + γ·B2B of Z3 without
    ///      their common factor eq(τ″_i, u_i)).
    function _registrationB2(uint256 c) private pure returns (uint256 b2) {
        assembly ("memory-safe") {
            let r := R
            let pv := add(c, CTX_PV)
            let ev := mload(add(c, CTX_P_EV))
            let alpha := mload(add(c, CTX_ALPHA))
            let t := addmod(alpha, sub(r, addmod(calldataload(ev), 128, r)), r)
            let b2w := addmod(mulmod(calldataload(add(ev, 0x40)), t, r), sub(r, 1), r)
            b2w := mulmod(mload(add(pv, PV_EW2)), b2w, r)
            t := addmod(alpha, sub(r, calldataload(add(ev, 0x20))), r)
            let b2b := addmod(mulmod(calldataload(add(ev, 0x60)), t, r), sub(r, 1), r)
            b2b := mulmod(mload(add(pv, PV_EB2)), b2b, r)
            b2 := addmod(b2w, mulmod(mload(add(c, CTX_GAMMA)), b2b, r), r)
        }
    }

    function _load(uint256 base, uint256 offset) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(base, offset))
        }
    }

    function _store(uint256 c, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(add(c, CTX_PV), slot), v)
        }
    }
}
