// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {FieldMath} from "./FieldMath.sol";
import {SumKzgRelations} from "./SumKzgRelations.sol";
import {BatchParams} from "./SumKzgBatchLayout.sol";
import {
    CTX_ALPHA,
    CTX_ACT,
    CTX_CLAIM,
    CTX_ELL,
    CTX_GAMMA,
    CTX_KRHO,
    CTX_LAMBDA,
    CTX_LIMBS,
    CTX_M,
    CTX_MU_I,
    CTX_MU_J,
    CTX_MULT,
    CTX_N,
    CTX_P_EV,
    CTX_RHO_L,
    CTX_SHIFT,
    CTX_SIZE,
    CTX_TAU,
    CTX_TAU2,
    CTX_TS,
    CTX_U
} from "./SumKzgLayout.sol";

/// @title The final sumcheck check of SumKZG-ML v2-batch (docs/proof-system-batch.md B4)
/// @notice Computes the verifier's public values at the sumcheck point u = (u_i, u_j),
///         u_j = (u_t, u_b, u_r) (log₂ L₂, μ_B and the remaining variables): eq(τ, u_i), eq(τ″_i, u_i),
///         eB(b) = eq(τ_B, b), E = Σ_{b<B} eB(b), x̄̃(u_j) = Σ_b eB(b)·x̃′_b(u_j), ȳ̃(u_i), Σ̃(u),
///         c̃ρB, c̃uB, s̃elB, t̃opB, δ̃0, ẽ″B and T̃α(u), and checks claim = F(u) + ρ_L·s_G with
///         F = eq(τ, i)·A + γ·B1 + γ²·B2 of B4 from the prover's final evaluations
///         Ŵ(u) ‖ L̃imb(u) ‖ H̃(u) ‖ M̃u(u) ‖ M̃k(u_lo) ‖ s_G. Cost O(B·(n + m)) plus the tables.
/// @dev The scratch memory after the context holds, in order: T̃α's tables (released once T̃α is
///      known), then 32 public-value words at P = c + CTX_SIZE and the eq tables after P + 0x400.
///      The Libra identity is SumKzgRelations.libraCheck (run by the caller).
library SumKzgBatchRelations {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    // Public values at P + slot.
    uint256 private constant PV_EQ_TAU = 0x000;
    uint256 private constant PV_EQ_TAU2 = 0x020;
    uint256 private constant PV_TALPHA = 0x040;
    uint256 private constant PV_X = 0x060; // x̄̃(u_j)
    uint256 private constant PV_Y = 0x080; // ȳ̃(u_i)
    uint256 private constant PV_D0 = 0x0a0; // δ̃0(u_j)
    uint256 private constant PV_CRHO = 0x0c0; // c̃ρB(u_j)
    uint256 private constant PV_CU = 0x0e0; // c̃uB(u_j)
    uint256 private constant PV_SEL = 0x100; // s̃elB(u_j)
    uint256 private constant PV_TOP = 0x120; // t̃opB(u_j)
    uint256 private constant PV_E2 = 0x140; // ẽ″B(u_j)
    uint256 private constant PV_SIGMA = 0x160; // Σ̃(u)
    uint256 private constant PV_E = 0x180; // E = Σ_{b<B} eB(b)
    uint256 private constant PV_ZR = 0x1a0; // Π(1 − u_r)
    uint256 private constant PV_SEB = 0x1c0; // Σ_{b<B} eB(b)·eq(u_b, b)
    uint256 private constant PV_SB = 0x1e0; // Σ_{b<B} eq(u_b, b)
    uint256 private constant PV_SUML = 0x200; // Σ_{t<L} eq(u_t, t)
    uint256 private constant PV_SIGB = 0x220; // Σ_{b<B} eq(u_b, b)·σ̃_b(u_i)
    uint256 private constant PV_ZRR = 0x240; // Π(1 − τ″_r)(1 − u_r)
    uint256 private constant PV_EBB = 0x260; // Σ_{b<B} eq(τ″_b, b)·eq(u_b, b)
    uint256 private constant PV_PAD = 0x280; // relu: Σ_{i≥m} eq(u_i, i); none: 0
    uint256 private constant PV_SM128 = 0x2a0; // 128·Σ_{i<m} eq(u_i, i)
    // Tables (P + offset): eB (64 words), eq(u_t, ·) (16), eq(τ″_t, ·) (16), eq(u_b, ·) (64),
    // eq(τ″_b, ·) (64), eq(u_i, ·) (m' ≤ 256... up to 2^11), then the column tables.
    uint256 private constant T_EB = 0x400;
    uint256 private constant T_UT = 0xc00;
    uint256 private constant T_TT = 0xe00;
    uint256 private constant T_UB = 0x1000;
    uint256 private constant T_TB = 0x1800;
    uint256 private constant T_I = 0x2000;

    /// @notice Whether claim = F(u) + ρ_L·s_G (B4, Z5); false also if α is a table value.
    /// @param c The context, after every challenge was drawn (τ_B stored after τ at CTX_TAU + 32·μ_i).
    /// @param bt The batch parameters.
    function finalCheck(uint256 c, BatchParams memory bt) internal view returns (bool) {
        (uint256 num, uint256 den) = SumKzgRelations.tAlpha(c, _load(c, CTX_ELL));
        if (den == 0) return false;
        uint256 tAlpha = mulmod(num, FieldMath.inverse(den), R);
        uint256 p = c + CTX_SIZE;
        uint256 muI = _load(c, CTX_MU_I);
        _set(p, PV_TALPHA, tAlpha);
        _set(p, PV_EQ_TAU, FieldMath.eqPoints(c + CTX_TAU, c + CTX_U, muI));
        _set(p, PV_EQ_TAU2, FieldMath.eqPoints(c + CTX_TAU2, c + CTX_U, muI));
        _columns(c, p, bt);
        _rows(c, p, bt);
        _xBar(c, p, bt);
        uint256 f = _f(c, p);
        uint256 masked;
        assembly ("memory-safe") {
            let sG := calldataload(add(mload(add(c, CTX_P_EV)), 0xa0))
            masked := addmod(f, mulmod(mload(add(c, CTX_RHO_L)), sG, R), R)
        }
        return masked == _load(c, CTX_CLAIM);
    }

    /// @dev eB, E, and the column vectors at u_j (B4).
    function _columns(uint256 c, uint256 p, BatchParams memory bt) private pure {
        _tables(c, p, bt);
        _instanceSums(p, bt.count);
        (uint256 sumL, uint256 top, uint256 cRho, uint256 cU, uint256 eTT) = _limbColumns(c, p);
        _set(p, PV_SUML, sumL);
        _set(p, PV_E2, mulmod(mulmod(_load(p, PV_ZRR), eTT, R), _load(p, PV_EBB), R));
        uint256 zr = _load(p, PV_ZR);
        uint256 sEB = _load(p, PV_SEB);
        uint256 sB = _load(p, PV_SB);
        _set(p, PV_CRHO, mulmod(mulmod(zr, cRho, R), sEB, R));
        _set(p, PV_CU, mulmod(mulmod(zr, cU, R), sEB, R));
        _set(p, PV_SEL, mulmod(mulmod(zr, sumL, R), sB, R));
        _set(p, PV_TOP, mulmod(mulmod(zr, top, R), sB, R));
    }

    /// @dev The tables eB, eq(u_t, ·), eq(τ″_t, ·), eq(u_b, ·), eq(τ″_b, ·); Π(1 − u_r),
    ///      Π(1 − τ″_r)(1 − u_r) and δ̃0(u_j) = eq(u_j, 0).
    function _tables(uint256 c, uint256 p, BatchParams memory bt) private pure {
        uint256 muI = _load(c, CTX_MU_I);
        uint256 lt = bt.logL2;
        uint256 muB = bt.muB;
        uint256 uj = c + CTX_U + 32 * muI;
        uint256 tj = c + CTX_TAU2 + 32 * muI;
        FieldMath.eqTable(p + T_EB, c + CTX_TAU + 32 * muI, muB);
        FieldMath.eqTable(p + T_UT, uj, lt);
        FieldMath.eqTable(p + T_TT, tj, lt);
        FieldMath.eqTable(p + T_UB, uj + 32 * lt, muB);
        FieldMath.eqTable(p + T_TB, tj + 32 * lt, muB);
        uint256 muJ = _load(c, CTX_MU_J);
        uint256 rest = muJ - lt - muB;
        uint256 zr = FieldMath.eqZero(uj + 32 * (lt + muB), rest);
        _set(p, PV_ZR, zr);
        _set(p, PV_ZRR, mulmod(zr, FieldMath.eqZero(tj + 32 * (lt + muB), rest), R));
        _set(p, PV_D0, FieldMath.eqZero(uj, muJ));
    }

    /// @dev Over b < B: E = Σ eB(b), Σ eq(u_b, b), Σ eB(b)·eq(u_b, b), Σ eq(τ″_b, b)·eq(u_b, b).
    function _instanceSums(uint256 p, uint256 count) private pure {
        assembly ("memory-safe") {
            let e := 0
            let sB := 0
            let sEB := 0
            let eBB := 0
            let r := R
            for { let b := 0 } lt(b, count) { b := add(b, 1) } {
                let eb := mload(add(add(p, T_EB), shl(5, b)))
                let ub := mload(add(add(p, T_UB), shl(5, b)))
                e := addmod(e, eb, r)
                sB := addmod(sB, ub, r)
                sEB := addmod(sEB, mulmod(eb, ub, r), r)
                eBB := addmod(eBB, mulmod(mload(add(add(p, T_TB), shl(5, b))), ub, r), r)
            }
            mstore(add(p, PV_E), e)
            mstore(add(p, PV_SB), sB)
            mstore(add(p, PV_SEB), sEB)
            mstore(add(p, PV_EBB), eBB)
        }
    }

    /// @dev Over t < L: Σ eq(u_t, t), eq(u_t, Kρ − 1), c̃ρ(u_t) = Σ_{t<Kρ} 2^{8t}·eq(u_t, t),
    ///      c̃u(u_t) = Σ_{Kρ≤t<L} 2^{8(t−Kρ)}·eq(u_t, t) and Σ eq(τ″_t, t)·eq(u_t, t).
    function _limbColumns(uint256 c, uint256 p)
        private
        pure
        returns (uint256 sumL, uint256 top, uint256 cRho, uint256 cU, uint256 eTT)
    {
        uint256 kRho = _load(c, CTX_KRHO);
        uint256 limbs = _load(c, CTX_LIMBS);
        assembly ("memory-safe") {
            let r := R
            for { let t := 0 } lt(t, limbs) { t := add(t, 1) } {
                let e := mload(add(add(p, T_UT), shl(5, t)))
                sumL := addmod(sumL, e, r)
                eTT := addmod(eTT, mulmod(e, mload(add(add(p, T_TT), shl(5, t))), r), r)
                switch lt(t, kRho)
                case 1 { cRho := addmod(cRho, mulmod(shl(shl(3, t), 1), e, r), r) }
                default { cU := addmod(cU, mulmod(shl(shl(3, sub(t, kRho)), 1), e, r), r) }
                if eq(t, sub(kRho, 1)) { top := e }
            }
        }
    }

    /// @dev ȳ̃(u_i) = Σ_b eB(b)·ỹ′_b(u_i) and Σ̃(u) = Π(1 − u_r)·(Σ_{t<L} eq(u_t, t))·
    ///      Σ_b eq(u_b, b)·σ̃_b(u_i), σ_{i,b} = +1 where y′ = 127, −1 where y′ = lo (0 for relu, −128 for
    ///      none; padded rows have y′ = 0, so σ = −1 there for relu).
    function _rows(uint256 c, uint256 p, BatchParams memory bt) private pure {
        uint256 m = _load(c, CTX_M);
        FieldMath.eqTable(p + T_I, c + CTX_U, _load(c, CTX_MU_I));
        uint256 sM; // Σ_{i<m} eq(u_i, i)
        assembly ("memory-safe") {
            let eqI := add(p, T_I)
            for { let i := 0 } lt(i, m) { i := add(i, 1) } { sM := addmod(sM, mload(add(eqI, shl(5, i))), R) }
        }
        bool relu = _load(c, CTX_ACT) == 1;
        // For relu the padded rows' σ = −1: Σ_{i≥m} eq(u_i, i) = 1 − sM.
        _set(p, PV_PAD, relu ? addmod(1, R - sM, R) : 0);
        _set(p, PV_SM128, mulmod(128, sM, R));
        _set(p, PV_Y, 0);
        _set(p, PV_SIGB, 0);
        uint256 lo = relu ? 0 : 0x80;
        for (uint256 b; b < bt.count; ++b) {
            _rowInstance(p, b, bt.ys[b], m, lo);
        }
        _set(p, PV_SIGMA, mulmod(mulmod(_load(p, PV_ZR), _load(p, PV_SUML), R), _load(p, PV_SIGB), R));
    }

    /// @dev Adds eB(b)·ỹ′_b(u_i) to PV_Y and eq(u_b, b)·σ̃_b(u_i) to PV_SIGB, over the m bytes of y_b
    ///      at calldata `o`: ỹ′_b = Σ_{i<m} (y_i + 128)·eq[i] − 128·Σ_{i<m} eq[i],
    ///      σ̃_b = Σ_{i<m} σ(y_i)·eq[i] − (relu: Σ_{i≥m} eq[i]).
    function _rowInstance(uint256 p, uint256 b, uint256 o, uint256 m, uint256 lo) private pure {
        assembly ("memory-safe") {
            let r := R
            let eqI := add(p, T_I)
            let s := 0
            let sg := 0
            for { let i := 0 } lt(i, m) { i := add(i, 1) } {
                let v := byte(0, calldataload(add(o, i)))
                let e := mload(add(eqI, shl(5, i)))
                s := addmod(s, mulmod(xor(v, 0x80), e, r), r)
                if eq(v, 0x7f) { sg := addmod(sg, e, r) }
                if eq(v, lo) { sg := addmod(sg, sub(r, e), r) }
            }
            s := addmod(s, sub(r, mload(add(p, PV_SM128))), r)
            sg := addmod(sg, sub(r, mload(add(p, PV_PAD))), r)
            let py := add(p, PV_Y)
            mstore(py, addmod(mload(py), mulmod(mload(add(add(p, T_EB), shl(5, b))), s, r), r))
            let ps := add(p, PV_SIGB)
            mstore(ps, addmod(mload(ps), mulmod(mload(add(add(p, T_UB), shl(5, b))), sg, r), r))
        }
    }

    /// @dev x̄̃(u_j) = Σ_b eB(b)·(Σ_{c<n} x_{b,c}·eq(u_j, pos(c))) + E·eq(u_j, pos(n)), with
    ///      pos(c) = c + ⌊c/g⌋, g = cpc − 1: eq(u_j, pos(c)) = lo[c mod g]·hi[c div g] (lo over the
    ///      log₂ cpc in-chunk variables, hi over the others).
    function _xBar(uint256 c, uint256 p, BatchParams memory bt) private pure {
        uint256 n = _load(c, CTX_N);
        (uint256 lo, uint256 hi, uint256 g) = _xTables(c, p);
        uint256 acc;
        for (uint256 b; b < bt.count; ++b) {
            acc = addmod(acc, mulmod(_load(p + T_EB, 32 * b), _xDot(bt.xs[b], n, lo, hi, g), R), R);
        }
        uint256 e = _load(p, PV_E);
        uint256 sX = _xDot(0, n, lo, hi, g); // Σ_{c<n} eq(u_j, pos(c))
        acc = addmod(acc, R - mulmod(mulmod(128, e, R), sX, R), R);
        uint256 dn = mulmod(_load(lo, 32 * (n % g)), _load(hi, 32 * (n / g)), R);
        _set(p, PV_X, addmod(acc, mulmod(e, dn, R), R));
    }

    /// @dev The in-chunk table lo (log₂ cpc variables) and the chunk table hi of u_j; g = cpc − 1.
    function _xTables(uint256 c, uint256 p) private pure returns (uint256 lo, uint256 hi, uint256 g) {
        uint256 muI = _load(c, CTX_MU_I);
        uint256 cpcLog = 12 - muI;
        g = (uint256(1) << cpcLog) - 1;
        uint256 uj = c + CTX_U + 32 * muI;
        lo = p + T_I + (uint256(32) << muI);
        hi = lo + (uint256(32) << cpcLog);
        FieldMath.eqTable(lo, uj, cpcLog);
        FieldMath.eqTable(hi, uj + 32 * cpcLog, _load(c, CTX_MU_J) - cpcLog);
    }

    /// @dev Σ_{c<n} coef(c)·lo[c mod g]·hi[c div g], coef(c) = x_c + 128 for the bytes at calldata `o`
    ///      (o ≠ 0), or 1 (o = 0).
    function _xDot(uint256 o, uint256 n, uint256 lo, uint256 hi, uint256 g) private pure returns (uint256 acc) {
        assembly ("memory-safe") {
            let r := R
            for { let base := 0 } lt(base, n) { base := add(base, g) } {
                let len := sub(n, base)
                if gt(len, g) { len := g }
                let s := 0
                switch o
                case 0 {
                    for { let t := 0 } lt(t, len) { t := add(t, 1) } { s := addmod(s, mload(add(lo, shl(5, t))), r) }
                }
                default {
                    let q := add(o, base)
                    let t := 0
                    // Eight bytes per calldata word while eight remain, then one by one.
                    for {} lt(add(t, 7), len) { t := add(t, 8) } {
                        let w :=
                            xor(
                                calldataload(add(q, t)),
                                0x8080808080808080808080808080808080808080808080808080808080808080
                            )
                        let e := add(lo, shl(5, t))
                        s := addmod(s, mulmod(byte(0, w), mload(e), r), r)
                        s := addmod(s, mulmod(byte(1, w), mload(add(e, 0x20)), r), r)
                        s := addmod(s, mulmod(byte(2, w), mload(add(e, 0x40)), r), r)
                        s := addmod(s, mulmod(byte(3, w), mload(add(e, 0x60)), r), r)
                        s := addmod(s, mulmod(byte(4, w), mload(add(e, 0x80)), r), r)
                        s := addmod(s, mulmod(byte(5, w), mload(add(e, 0xa0)), r), r)
                        s := addmod(s, mulmod(byte(6, w), mload(add(e, 0xc0)), r), r)
                        s := addmod(s, mulmod(byte(7, w), mload(add(e, 0xe0)), r), r)
                    }
                    for {} lt(t, len) { t := add(t, 1) } {
                        let v := xor(byte(0, calldataload(add(q, t))), 0x80)
                        s := addmod(s, mulmod(v, mload(add(lo, shl(5, t))), r), r)
                    }
                }
                acc := addmod(acc, mulmod(s, mload(hi), r), r)
                hi := add(hi, 0x20)
            }
        }
    }

    /// @dev F(u) = eq(τ, u_i)·A + γ·B1 + γ²·B2 (B4) from the evaluations Ŵ, Limb, H, Mu.
    function _f(uint256 c, uint256 p) private pure returns (uint256 f) {
        uint256 aTerm = _a(c, p);
        assembly ("memory-safe") {
            let r := R
            let ev := mload(add(c, CTX_P_EV))
            let hEv := calldataload(add(ev, 0x40))
            // B1 = selB·H − Mu·Tα
            let b1 :=
                addmod(
                    mulmod(mload(add(p, PV_SEL)), hEv, r),
                    sub(r, mulmod(calldataload(add(ev, 0x60)), mload(add(p, PV_TALPHA)), r)),
                    r
                )
            // B2 = eq(τ″_i, u_i)·ẽ″B·(H·(α − Limb − λ·topB) − 1)
            let t := addmod(calldataload(add(ev, 0x20)), mulmod(mload(add(c, CTX_LAMBDA)), mload(add(p, PV_TOP)), r), r)
            t := addmod(mload(add(c, CTX_ALPHA)), sub(r, t), r)
            let b2 := mulmod(mload(add(p, PV_E2)), addmod(mulmod(hEv, t, r), sub(r, 1), r), r)
            let gamma := mload(add(c, CTX_GAMMA))
            f := mulmod(mload(add(p, PV_EQ_TAU)), aTerm, r)
            f := addmod(f, mulmod(gamma, b1, r), r)
            f := addmod(f, mulmod(mulmod(mulmod(gamma, gamma, r), mload(add(p, PV_EQ_TAU2)), r), b2, r), r)
        }
    }

    /// @dev A = M·Ŵ·x̄ + δ0·(E·2^{k−1} − 2^k·ȳ) − cρB·Limb − 2^k·cuB·Σ·Limb at u.
    function _a(uint256 c, uint256 p) private pure returns (uint256 aTerm) {
        assembly ("memory-safe") {
            let r := R
            let ev := mload(add(c, CTX_P_EV))
            let k := mload(add(c, CTX_SHIFT))
            let twoK := shl(k, 1)
            let limb := calldataload(add(ev, 0x20))
            aTerm := mulmod(mulmod(mload(add(c, CTX_MULT)), calldataload(ev), r), mload(add(p, PV_X)), r)
            let t := mulmod(mload(add(p, PV_E)), shl(sub(k, 1), 1), r)
            t := addmod(t, sub(r, mulmod(twoK, mload(add(p, PV_Y)), r)), r)
            aTerm := addmod(aTerm, mulmod(mload(add(p, PV_D0)), t, r), r)
            aTerm := addmod(aTerm, sub(r, mulmod(mload(add(p, PV_CRHO)), limb, r)), r)
            t := mulmod(mulmod(twoK, mload(add(p, PV_CU)), r), mulmod(mload(add(p, PV_SIGMA)), limb, r), r)
            aTerm := addmod(aTerm, sub(r, t), r)
        }
    }

    // ---- T̃α(u): a copy of SumKzgRelations' (private there) ----

    function _load(uint256 base, uint256 offset) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(base, offset))
        }
    }

    function _set(uint256 p, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(p, slot), v)
        }
    }
}
