// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {FieldMath} from "./FieldMath.sol";
import {SumKzgRelations} from "./SumKzgRelations.sol";
import {
    CTX_ALPHA,
    CTX_CLAIM,
    CTX_ELL,
    CTX_GAMMA,
    CTX_LAMBDA,
    CTX_P_EV,
    CTX_RHO_L,
    CTX_SIZE,
    CTX_TAU,
    CTX_TAU2,
    CTX_U
} from "./SumKzgLayout.sol";
import {
    SK_ACT1,
    SK_ACT2,
    SK_B,
    SK_KRHO1,
    SK_KRHO2,
    SK_KU1,
    SK_L1,
    SK_L2,
    SK_M1,
    SK_M2,
    SK_MU_I,
    SK_MU_J,
    SK_MULT1,
    SK_MULT2,
    SK_N1,
    SK_P_X,
    SK_P_Y,
    SK_PV,
    SK_SHIFT1,
    SK_SHIFT2,
    SK_SIZE,
    SK_SUB1,
    SK_TS1,
    SK_TS2
} from "./SumKzgStackLayout.sol";

/// @title The final sumcheck check of SumKZG-ML v2-stack (docs/proof-system-stack.md S4, S5, S6 step 5)
/// @notice Computes the public values of S4 at the sumcheck point u = (u_i, u_j) (row vectors at
///         u_i = u_1..u_{μ_i}, column vectors at u_j = u_{μ_i+1}..u_ℓ, the tables Tα1, Tα2 at u) and
///         checks claim = F(u) + ρ_L·s_G with F of S5 (Pc included) from the eleven final evaluations
///         Ŵ_P, Limb1, H1, Mu1, Act, Ŵ_V, Limb2, H2, Mu2 (at u, Act at u_i), M̃k(u_lo), s_G.
///         (Revision of the spec followed: Pc, and layer 1's lookups restricted to rows < m1.)
///         Every public MLE costs O(its support) or O(μ): products of MLEs as S5 writes them.
/// @dev Public values live at s + SK_PV + slot; the scratch after the context holds the tables.
library SumKzgStackRelations {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @dev C0 = 128·(1 + 2^8 + 2^16 + 2^24) − 2^31 (S4).
    uint256 private constant C0 = 8_421_504;

    // Row values (at u_i).
    uint256 private constant PV_E1R = 0x00; // Σ_{i<m1} eq(τ″_i, i)·eq(u_i, i)
    uint256 private constant PV_EA = 0x20; // Σ_{i<m1} eq(τ_A, i)·eq(u_i, i)
    uint256 private constant PV_SELA = 0x40; // Σ_{i<n2} eq(u_i, i) (= selR1, as n2 = m1)
    uint256 private constant PV_CB2 = 0x60; // Σ_{t<4} 2^{8t}·eq(u_i, n2 + t)
    uint256 private constant PV_D0R = 0x80; // eq(u_i, 0)
    uint256 private constant PV_CRHO2 = 0xa0;
    uint256 private constant PV_CU2 = 0xc0;
    uint256 private constant PV_SEL2 = 0xe0;
    uint256 private constant PV_TOP2 = 0x100;
    uint256 private constant PV_E2R = 0x120; // Σ_{i<L2} eq(τ″_i, i)·eq(u_i, i)
    // Column values (at u_j).
    uint256 private constant PV_X1 = 0x140;
    uint256 private constant PV_D0 = 0x160;
    uint256 private constant PV_CRHO1 = 0x180;
    uint256 private constant PV_CVP = 0x1a0;
    uint256 private constant PV_CVM = 0x1c0;
    uint256 private constant PV_DA = 0x1e0;
    uint256 private constant PV_SEL1 = 0x200;
    uint256 private constant PV_SHIFT1 = 0x220;
    uint256 private constant PV_E1 = 0x240; // Σ_{j<L1} eq(τ″_j, j)·eq(u_j, j)
    uint256 private constant PV_EOUT = 0x260; // Σ_{c<m2} eq(τ_B, pos_V(c))·eq(u_j, pos_V(c))
    uint256 private constant PV_D2 = 0x280; // Σ_{c<m2} eq(u_j, pos_V(c))
    uint256 private constant PV_Y2 = 0x2a0; // Σ_{c<m2} y_c·eq(u_j, pos_V(c))
    uint256 private constant PV_SIG2 = 0x2c0; // Σ_{c<m2} σ2_c·eq(u_j, pos_V(c))
    uint256 private constant PV_E2C = 0x2e0; // Σ_{c<m2} eq(τ″_j, pos_V(c))·eq(u_j, pos_V(c))
    // Tables (at u).
    uint256 private constant PV_TA1 = 0x300;
    uint256 private constant PV_TA2 = 0x320;
    // ψ̃(u_j) = eq(τ_C, (u_{μ_i+1}..u_d))·Π_{v>d}(1 − u_v), τ_C the first b coordinates of τ_B.
    uint256 private constant PV_PSI = 0x340;

    /// @notice Whether the final sumcheck claim equals F(u) + ρ_L·s_G (false also if α is a value of
    ///         T1 or T2, where Tα is undefined).
    /// @param s The stack context after the transcript replay (challenges and u drawn).
    function finalCheck(uint256 s) internal view returns (bool) {
        uint256 c = s + SK_SIZE;
        _rows(s, c);
        _columns(s, c);
        if (!_tables(s, c)) return false;
        uint256 f = addmod(_layer1(s, c), _layer2(s, c), R);
        uint256 masked;
        assembly ("memory-safe") {
            let sG := calldataload(add(mload(add(c, CTX_P_EV)), 0x140)) // evals[10]
            masked := addmod(f, mulmod(mload(add(c, CTX_RHO_L)), sG, R), R)
        }
        return masked == _load(c, CTX_CLAIM);
    }

    // ---------------------------------------------------------------------------------------------
    // F(u) (S5)
    // ---------------------------------------------------------------------------------------------

    /// @dev A1 + γ·T1 + γ²·Gm + γ³·Gp + γ⁴·B1a + γ⁵·B2a.
    function _layer1(uint256 s, uint256 c) private pure returns (uint256 f) {
        uint256 gamma = _load(c, CTX_GAMMA);
        uint256 g2 = mulmod(gamma, gamma, R);
        f = addmod(_layer1Rows(s, c, gamma), mulmod(mulmod(g2, g2, R), _layer1Lookups(s, c, gamma), R), R);
    }

    /// @dev A1 + γ·T1 + γ²·Gm + γ³·Gp (the row identities of layer 1).
    function _layer1Rows(uint256 s, uint256 c, uint256 gamma) private pure returns (uint256 f) {
        uint256 shift = _load(s, SK_SHIFT1);
        uint256 lo = _load(s, SK_ACT1) == 1 ? 0 : R - 128;
        uint256 mult = _load(s, SK_MULT1);
        assembly ("memory-safe") {
            let r := R
            let pv := add(s, SK_PV)
            let ev := mload(add(c, CTX_P_EV))
            let limb := calldataload(add(ev, 0x20))
            let act := calldataload(add(ev, 0x80))
            let d0 := mload(add(pv, PV_D0))
            // Gp = eA·(127 − Act)·cvp·Limb1, Gm = eA·(Act − lo1)·cvm·Limb1 (without eA)
            f := mulmod(mulmod(limb, addmod(127, sub(r, act), r), r), mload(add(pv, PV_CVP)), r)
            let actLo := addmod(act, sub(r, lo), r) // Act − lo1
            f := addmod(mulmod(f, gamma, r), mulmod(mulmod(limb, actLo, r), mload(add(pv, PV_CVM)), r), r)
            // T1 = eA·[δ0·(Act − lo1) − δa·Limb1]
            let t := addmod(mulmod(d0, actLo, r), sub(r, mulmod(mload(add(pv, PV_DA)), limb, r)), r)
            f := addmod(mulmod(f, gamma, r), t, r)
            // A1 = eA·[M1·Ŵ_P·x1 + δ0·2^{k1−1} − (cρ1 + 2^{k1}·(cvp − cvm))·Limb1 − 2^{k1}·δ0·Act]
            let twoK := shl(shift, 1)
            t := mulmod(mulmod(mult, calldataload(ev), r), mload(add(pv, PV_X1)), r)
            t := addmod(t, mulmod(d0, shl(sub(shift, 1), 1), r), r)
            let cv := addmod(mload(add(pv, PV_CVP)), sub(r, mload(add(pv, PV_CVM))), r)
            let coef := addmod(mload(add(pv, PV_CRHO1)), mulmod(twoK, cv, r), r)
            t := addmod(t, sub(r, mulmod(coef, limb, r)), r)
            t := addmod(t, sub(r, mulmod(mulmod(twoK, d0, r), act, r)), r)
            f := addmod(mulmod(f, gamma, r), t, r)
            f := mulmod(f, mload(add(pv, PV_EA)), r)
        }
    }

    /// @dev B1a + γ·B2a (the lookups of layer 1).
    function _layer1Lookups(uint256 s, uint256 c, uint256 gamma) private pure returns (uint256 f) {
        assembly ("memory-safe") {
            let r := R
            let pv := add(s, SK_PV)
            let ev := mload(add(c, CTX_P_EV))
            let h := calldataload(add(ev, 0x40))
            // B2a = e1r″·e1″·(H1·(α − Limb1 − λ·shift1) − 1)
            let t :=
                addmod(calldataload(add(ev, 0x20)), mulmod(mload(add(c, CTX_LAMBDA)), mload(add(pv, PV_SHIFT1)), r), r)
            t := addmod(mload(add(c, CTX_ALPHA)), sub(r, t), r)
            t := addmod(mulmod(h, t, r), sub(r, 1), r)
            f := mulmod(mulmod(mload(add(pv, PV_E1R)), mload(add(pv, PV_E1)), r), t, r)
            // B1a = selR1·sel1·H1 − Mu1·Tα1 (selR1 = [i < m1] = selA)
            t := mulmod(calldataload(add(ev, 0x60)), mload(add(pv, PV_TA1)), r)
            let sel := mulmod(mload(add(pv, PV_SELA)), mload(add(pv, PV_SEL1)), r)
            t := addmod(mulmod(sel, h, r), sub(r, t), r)
            f := addmod(mulmod(f, gamma, r), t, r)
        }
    }

    /// @dev γ⁶·A2 + γ⁷·B1b + γ⁸·B2b + γ⁹·Pc.
    function _layer2(uint256 s, uint256 c) private pure returns (uint256 f) {
        uint256 shift = _load(s, SK_SHIFT2);
        uint256 mult = _load(s, SK_MULT2);
        assembly ("memory-safe") {
            let r := R
            let pv := add(s, SK_PV)
            let ev := mload(add(c, CTX_P_EV))
            let twoK := shl(shift, 1)
            let limb := calldataload(add(ev, 0xc0))
            let h := calldataload(add(ev, 0xe0))
            // A2 = eout·[M2·Ŵ_V·(selA·Act + cb2) + δ0r·(2^{k2−1} + M2·C0 − 2^{k2}·y2)
            //            − (cρ2 + 2^{k2}·σ2·cu2)·Limb2]
            let inp :=
                addmod(mulmod(mload(add(pv, PV_SELA)), calldataload(add(ev, 0x80)), r), mload(add(pv, PV_CB2)), r)
            let t := mulmod(mulmod(mult, calldataload(add(ev, 0xa0)), r), inp, r)
            let k0 :=
                addmod(add(shl(sub(shift, 1), 1), mul(mult, C0)), sub(r, mulmod(twoK, mload(add(pv, PV_Y2)), r)), r)
            t := addmod(t, mulmod(mload(add(pv, PV_D0R)), k0, r), r)
            let coef :=
                addmod(
                    mload(add(pv, PV_CRHO2)),
                    mulmod(mulmod(twoK, mload(add(pv, PV_SIG2)), r), mload(add(pv, PV_CU2)), r),
                    r
                )
            t := addmod(t, sub(r, mulmod(coef, limb, r)), r)
            let a2 := mulmod(mload(add(pv, PV_EOUT)), t, r)
            // B1b = sel2·d2·H2 − Mu2·Tα2
            let b1 :=
                addmod(
                    mulmod(mulmod(mload(add(pv, PV_SEL2)), mload(add(pv, PV_D2)), r), h, r),
                    sub(r, mulmod(calldataload(add(ev, 0x100)), mload(add(pv, PV_TA2)), r)),
                    r
                )
            // B2b = e2r″·e2c″·(H2·(α − Limb2 − λ·top2) − 1)
            t := addmod(limb, mulmod(mload(add(c, CTX_LAMBDA)), mload(add(pv, PV_TOP2)), r), r)
            t := addmod(mload(add(c, CTX_ALPHA)), sub(r, t), r)
            t := addmod(mulmod(h, t, r), sub(r, 1), r)
            let b2 := mulmod(mulmod(mload(add(pv, PV_E2R)), mload(add(pv, PV_E2C)), r), t, r)
            // Pc = eA·(ψ − δ0)·Act (the periodicity of Act's chunk)
            let per := addmod(mload(add(pv, PV_PSI)), sub(r, mload(add(pv, PV_D0))), r)
            per := mulmod(mulmod(per, mload(add(pv, PV_EA)), r), calldataload(add(ev, 0x80)), r)
            // γ⁶·(a2 + γ·(b1 + γ·(b2 + γ·Pc)))
            let gamma := mload(add(c, CTX_GAMMA))
            b2 := addmod(b2, mulmod(gamma, per, r), r)
            f := addmod(mulmod(b2, gamma, r), b1, r)
            f := addmod(mulmod(f, gamma, r), a2, r)
            let g2 := mulmod(gamma, gamma, r)
            let g6 := mulmod(mulmod(g2, g2, r), g2, r)
            f := mulmod(f, g6, r)
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Row vectors (S4, at u_i)
    // ---------------------------------------------------------------------------------------------

    /// @dev e1r″, eA, selA (= selR1), cb2, δ0r, cρ2, cu2, sel2, top2, e2r″.
    function _rows(uint256 s, uint256 c) private pure {
        uint256 muI = _load(s, SK_MU_I);
        uint256 m1 = _load(s, SK_M1); // = n2
        uint256 u = c + CTX_U;
        (uint256 e1r,,,) = _walk(c + CTX_TAU2, u, muI, m1);
        _pv(s, PV_E1R, e1r);
        (uint256 eA,,,) = _walk(c + CTX_TAU, u, muI, m1);
        _pv(s, PV_EA, eA);
        _pv(s, PV_SELA, FieldMath.eqPrefixSum(u, muI, m1));
        uint256 cb2 = FieldMath.eqIndex(u, muI, m1);
        cb2 = addmod(cb2, mulmod(1 << 8, FieldMath.eqIndex(u, muI, m1 + 1), R), R);
        cb2 = addmod(cb2, mulmod(1 << 16, FieldMath.eqIndex(u, muI, m1 + 2), R), R);
        cb2 = addmod(cb2, mulmod(1 << 24, FieldMath.eqIndex(u, muI, m1 + 3), R), R);
        _pv(s, PV_CB2, cb2);
        _pv(s, PV_D0R, FieldMath.eqZero(u, muI));
        uint256 l2 = _load(s, SK_L2);
        (uint256 e2r,,,) = _walk(c + CTX_TAU2, u, muI, l2);
        _pv(s, PV_E2R, e2r);
        _rowLimbs(s, c, u, muI, l2);
    }

    /// @dev cρ2, cu2, sel2, top2: rows i < L2 ≤ 10 from the table of the first 4 row variables
    ///      (μ_i ≥ 4 as L2 + 2 ≤ m').
    function _rowLimbs(uint256 s, uint256 c, uint256 u, uint256 muI, uint256 l2) private pure {
        uint256 t = c + CTX_SIZE;
        FieldMath.eqTable(t, u, 4);
        uint256 z = FieldMath.eqZero(u + 4 * 32, muI - 4);
        uint256 kRho = _load(s, SK_KRHO2);
        (uint256 cRho, uint256 cU, uint256 sel) = _limbSums(t, kRho, l2, 0);
        _pv(s, PV_CRHO2, mulmod(cRho, z, R));
        _pv(s, PV_CU2, mulmod(cU, z, R));
        _pv(s, PV_SEL2, mulmod(sel, z, R));
        _pv(s, PV_TOP2, mulmod(_load(t, 32 * (kRho - 1)), z, R));
    }

    /// @dev Over the table words t[0..limbs): Σ_{j<kRho} 2^{8j}·t[j], Σ_{kRho≤j<end} 2^{8(j−kRho)}·t[j]
    ///      with end = limbs − skip, and Σ_{j<limbs} t[j].
    function _limbSums(uint256 t, uint256 kRho, uint256 limbs, uint256 skip)
        private
        pure
        returns (uint256 cRho, uint256 cU, uint256 sel)
    {
        assembly ("memory-safe") {
            let r := R
            let end := sub(limbs, skip)
            for { let j := 0 } lt(j, limbs) { j := add(j, 1) } {
                let e := mload(add(t, shl(5, j)))
                sel := addmod(sel, e, r)
                if lt(j, kRho) { cRho := addmod(cRho, mulmod(shl(shl(3, j), 1), e, r), r) }
                if and(iszero(lt(j, kRho)), lt(j, end)) {
                    cU := addmod(cU, mulmod(shl(shl(3, sub(j, kRho)), 1), e, r), r)
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Column vectors (S4, at u_j)
    // ---------------------------------------------------------------------------------------------

    /// @dev x1, δ0, cρ1, cvp, cvm, δa, sel1, shift1, e1″, eout, d2, y2, σ2, e2c″.
    function _columns(uint256 s, uint256 c) private pure {
        uint256 muI = _load(s, SK_MU_I);
        uint256 muJ = _load(s, SK_MU_J);
        uint256 b = _load(s, SK_B);
        uint256 w = c + CTX_U + 32 * muI;
        uint256 tau2j = c + CTX_TAU2 + 32 * muI;
        uint256 m2 = _load(s, SK_M2);
        _pv(s, PV_D0, FieldMath.eqZero(w, muJ));
        _pv(s, PV_E1, _e1(s, tau2j, w, muJ));
        (uint256 eout,) = _weightColumns(c + CTX_TAU + 32 * muI, w, b, muJ, m2);
        _pv(s, PV_EOUT, eout);
        (uint256 d2,) = _weightColumns(0, w, b, muJ, m2);
        _pv(s, PV_D2, d2);
        (uint256 e2c,) = _weightColumns(tau2j, w, b, muJ, m2);
        _pv(s, PV_E2C, e2c);
        _psi(s, c + CTX_TAU + 32 * muI, w, b, muJ);
        _limbColumns(s, w, muJ);
        _gathers(s, w, b, muJ);
    }

    /// @dev e1″(u_j) = Σ_{j<L1} eq(τ″_j, j)·eq(u_j, j); for L1 = n' (allowed: L1 ≤ n') the sum over
    ///      every column, which `_walk` (the bits of k below 2^μ) cannot express.
    function _e1(uint256 s, uint256 tau2j, uint256 w, uint256 muJ) private pure returns (uint256) {
        uint256 l1 = _load(s, SK_L1);
        (uint256 e1,,, uint256 all) = _walk(tau2j, w, muJ, l1);
        return l1 == uint256(1) << muJ ? all : e1;
    }

    /// @dev ψ̃(u_j) = eq(τ_C, (u_{μ_i+1}..u_d))·Π_{v>d}(1 − u_v) with τ_C the first b coordinates of
    ///      τ_B (at `tauB`): the first b column variables are the in-chunk ones (μ_i + b = d).
    function _psi(uint256 s, uint256 tauB, uint256 w, uint256 b, uint256 muJ) private pure {
        uint256 psi = FieldMath.eqPoints(tauB, w, b);
        _pv(s, PV_PSI, mulmod(psi, FieldMath.eqZero(w + 32 * b, muJ - b), R));
    }

    /// @dev cρ1, cvp, cvm, δa, sel1, shift1 from the table of the first min(5, μ_j) column
    ///      variables (L1 ≤ min(20, n'), so every limb column j < L1 is in it).
    function _limbColumns(uint256 s, uint256 w, uint256 muJ) private pure {
        uint256 a = muJ < 5 ? muJ : 5;
        uint256 t = s + SK_SIZE + CTX_SIZE;
        FieldMath.eqTable(t, w, a);
        uint256 z = FieldMath.eqZero(w + 32 * a, muJ - a);
        uint256 kRho = _load(s, SK_KRHO1);
        uint256 ku = _load(s, SK_KU1);
        uint256 l1 = _load(s, SK_L1);
        // cvp: the Ku1 columns after Kρ1; cvm: the Ku1 columns after those (before ja = L1 − 1).
        // cvp = the second sum with end = L1 − Ku1 − 1 = Kρ1 + Ku1; cvm = the second sum taken from
        // Kρ1 + Ku1 with end = L1 − 1 (the other outputs of that call are unused).
        (uint256 cRho, uint256 cvp, uint256 sel) = _limbSums(t, kRho, l1, ku + 1);
        (, uint256 cvm,) = _limbSums(t, kRho + ku, l1, 1);
        uint256 da = _load(t, 32 * (l1 - 1));
        uint256 shift = _load(t, 32 * (kRho - 1));
        if (_load(s, SK_ACT1) == 1) shift = addmod(shift, mulmod(2, da, R), R);
        _pv(s, PV_CRHO1, mulmod(cRho, z, R));
        _pv(s, PV_CVP, mulmod(cvp, z, R));
        _pv(s, PV_CVM, mulmod(cvm, z, R));
        _pv(s, PV_DA, mulmod(da, z, R));
        _pv(s, PV_SEL1, mulmod(sel, z, R));
        _pv(s, PV_SHIFT1, mulmod(shift, z, R));
    }

    /// @dev x1(u_j) = Σ_{c<n1} x_c·eq(u_j, pos_P(c)) + eq(u_j, pos_P(n1)), y2(u_j), σ2(u_j) over the
    ///      data positions pos(c) = c + ⌊c/g⌋ (P and V share g = 2^b − 1): chunk κ holds the data
    ///      columns κ·g .. κ·g + g − 1 at the positions κ·2^b + t, t < g, so eq(u_j, pos) =
    ///      lo[t]·eq(chunk variables, κ) with lo the table of the b in-chunk variables (2^b ≤ 256 as
    ///      μ_i ≥ 4) and the chunk factor from two half tables over the other μ_j − b variables.
    ///      Bytes v enter as (v xor 0x80) = int8(v) + 128; the 128·Σ eq(u_j, pos(c)) is taken off
    ///      with the closed forms (`_weightColumns`: selW̃, and d2 for V).
    function _gathers(uint256 s, uint256 w, uint256 b, uint256 muJ) private pure {
        uint256 lo = s + SK_SIZE + CTX_SIZE;
        uint256 h1 = (muJ - b + 1) / 2;
        FieldMath.eqTable(lo, w, b);
        FieldMath.eqTable(lo + (uint256(32) << b), w + 32 * b, h1);
        FieldMath.eqTable(lo + (uint256(32) << b) + (uint256(32) << h1), w + 32 * (b + h1), muJ - b - h1);
        _x1(s, w, b, muJ, h1, lo);
        // σ2: +1 at y = 127, −1 at y = lo2 (0 for relu, −128 for none).
        uint256 sigma = _load(s, SK_ACT2) == 1 ? 1 : 0x81;
        (uint256 y2, uint256 sig2) = _gather(_load(s, SK_P_Y), _load(s, SK_M2), b, h1, lo, sigma);
        _pv(s, PV_Y2, addmod(y2, R - mulmod(128, _load(s, SK_PV + PV_D2), R), R));
        _pv(s, PV_SIG2, sig2);
    }

    /// @dev x1(u_j) = Σ_c (x_c + 128)·eq(u_j, pos_P(c)) − 128·selW̃_P(u_j) + eq(u_j, pos_P(n1)).
    function _x1(uint256 s, uint256 w, uint256 b, uint256 muJ, uint256 h1, uint256 lo) private pure {
        uint256 n1 = _load(s, SK_N1);
        (uint256 x1,) = _gather(_load(s, SK_P_X), n1, b, h1, lo, 0);
        (uint256 sel, uint256 bias) = _weightColumns(0, w, b, muJ, n1);
        _pv(s, PV_X1, addmod(addmod(x1, R - mulmod(128, sel, R), R), bias, R));
    }

    /// @dev Over the `len` bytes v_c at calldata `offset`, chunk by chunk (see `_gathers`; the tables
    ///      at `lo`: 2^b in-chunk words, then 2^h1 and 2^(μ_j − b − h1) chunk words):
    ///      Σ_c (v_c xor 0x80)·eq(u_j, pos(c)) and, when `sigma` ≠ 0 (the byte lo2 + 1),
    ///      Σ_c σ(v_c)·eq(u_j, pos(c)) with σ = +1 at 0x7f, −1 at the byte sigma − 1. Without σ the
    ///      bytes are read eight at a time.
    function _gather(uint256 offset, uint256 len, uint256 b, uint256 h1, uint256 lo, uint256 sigma)
        private
        pure
        returns (uint256 acc, uint256 sacc)
    {
        uint256 g = (uint256(1) << b) - 1;
        for (uint256 c0; c0 < len; c0 += g) {
            uint256 n = len - c0 < g ? len - c0 : g;
            (uint256 sm, uint256 ss) =
                sigma == 0 ? (_plain(offset + c0, n, lo), 0) : _withSigma(offset + c0, n, lo, sigma);
            uint256 eh = _chunkEq(lo, b, h1, c0 / g);
            acc = addmod(acc, mulmod(sm, eh, R), R);
            sacc = addmod(sacc, mulmod(ss, eh, R), R);
        }
    }

    /// @dev eq over the chunk variables at chunk κ: hiA[κ mod 2^h1]·hiB[κ div 2^h1] (the tables after
    ///      the 2^b in-chunk words at `lo`).
    function _chunkEq(uint256 lo, uint256 b, uint256 h1, uint256 kappa) private pure returns (uint256 e) {
        assembly ("memory-safe") {
            let hiA := add(lo, shl(b, 32))
            let hiB := add(hiA, shl(h1, 32))
            e := mulmod(
                mload(add(hiA, shl(5, and(kappa, sub(shl(h1, 1), 1))))),
                mload(add(hiB, shl(5, shr(h1, kappa)))),
                R
            )
        }
    }

    /// @dev Σ_{t<n} (v_t xor 0x80)·q[t] over the bytes v at calldata `p`, eight at a time.
    function _plain(uint256 p, uint256 n, uint256 q) private pure returns (uint256 sum) {
        assembly ("memory-safe") {
            let r := R
            let end := add(q, shl(5, n))
            for {} iszero(gt(add(q, 0x100), end)) { q := add(q, 0x100) } {
                let v := xor(calldataload(p), 0x8080808080808080808080808080808080808080808080808080808080808080)
                sum := addmod(sum, mulmod(byte(0, v), mload(q), r), r)
                sum := addmod(sum, mulmod(byte(1, v), mload(add(q, 0x20)), r), r)
                sum := addmod(sum, mulmod(byte(2, v), mload(add(q, 0x40)), r), r)
                sum := addmod(sum, mulmod(byte(3, v), mload(add(q, 0x60)), r), r)
                sum := addmod(sum, mulmod(byte(4, v), mload(add(q, 0x80)), r), r)
                sum := addmod(sum, mulmod(byte(5, v), mload(add(q, 0xa0)), r), r)
                sum := addmod(sum, mulmod(byte(6, v), mload(add(q, 0xc0)), r), r)
                sum := addmod(sum, mulmod(byte(7, v), mload(add(q, 0xe0)), r), r)
                p := add(p, 8)
            }
            for {} lt(q, end) { q := add(q, 0x20) } {
                sum := addmod(sum, mulmod(xor(shr(248, calldataload(p)), 0x80), mload(q), r), r)
                p := add(p, 1)
            }
        }
    }

    /// @dev `_plain`'s sum and Σ_t σ(v_t)·q[t] (σ = +1 at 0x7f, −1 at the byte sig − 1).
    function _withSigma(uint256 p, uint256 n, uint256 q, uint256 sig) private pure returns (uint256 sum, uint256 ssum) {
        assembly ("memory-safe") {
            let r := R
            let loByte := sub(sig, 1)
            for { let end := add(p, n) } lt(p, end) { p := add(p, 1) } {
                let v := shr(248, calldataload(p))
                let e := mload(q)
                sum := addmod(sum, mulmod(xor(v, 0x80), e, r), r)
                if eq(v, 0x7f) { ssum := addmod(ssum, e, r) }
                if eq(v, loByte) { ssum := addmod(ssum, sub(r, e), r) }
                q := add(q, 0x20)
            }
        }
    }

    /// @dev Σ_{c<n} term(pos(c)) and term(pos(n)) in O(μ_j), pos(c) = c + ⌊c/g⌋, g = 2^b − 1;
    ///      term(f) = eq(w, f), or eq(t, f)·eq(w, f) for a point t ≠ 0 (as SumKzgRelations'
    ///      `_weightColumns`): with F = ⌊n/g⌋, r = n mod g, sum = S_hi(F)·(T_lo − Π_{v<b} a_v) +
    ///      e_hi(F)·S_lo(r), term(pos(n)) = e_hi(F)·e_lo(r).
    function _weightColumns(uint256 t, uint256 w, uint256 b, uint256 muJ, uint256 n)
        private
        pure
        returns (uint256 sum, uint256 atN)
    {
        uint256 g = (uint256(1) << b) - 1;
        uint256 full = n / g;
        (uint256 sHi, uint256 eHi,,) = _walk(t == 0 ? 0 : t + 32 * b, w + 32 * b, muJ - b, full);
        (uint256 sLo, uint256 eLo, uint256 ones, uint256 total) = _walk(t, w, b, n - full * g);
        sum = addmod(mulmod(sHi, addmod(total, R - ones, R), R), mulmod(eHi, sLo, R), R);
        atN = mulmod(eHi, eLo, R);
    }

    /// @dev Over `mu` variables with a_v = w_v, b_v = 1 − w_v (t = 0) or a_v = t_v·w_v,
    ///      b_v = (1 − t_v)(1 − w_v) and term(f) = Π_v (f_v ? a_v : b_v): sum = Σ_{f<k} term(f),
    ///      atK = term(k), ones = Π_v a_v, total = Π_v (a_v + b_v) (SumKzgRelations' `_walk`).
    ///      Requires k < 2^mu (only the low mu bits of k are read).
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

    // ---------------------------------------------------------------------------------------------
    // Tables (S2, at u)
    // ---------------------------------------------------------------------------------------------

    /// @dev Tα1(u) and Tα2(u) with one inversion; false if α is a table value.
    ///      T1: f < 256: f; 256 ≤ f < SUB1 = 256 + 2^{k1'}: λ + (f − 256); relu: SUB1 ≤ f < TS1:
    ///      2λ + (f − SUB1). T2: f < 256: f; 256 ≤ f < TS2: λ + (f − 256). On sub-table k the
    ///      entry is 1/a_f with a_f = base_k − f, and eq(u, f) = w[f mod 8]·wHi[f div 8]·
    ///      Π_{v>10}(1 − u_v) (f < 1024).
    function _tables(uint256 s, uint256 c) private view returns (bool) {
        // Scratch: w (8 words), wHi (128 words), P's coefficients (7 words), base_0..base_2.
        uint256 w = c + CTX_SIZE;
        FieldMath.eqTable(w, c + CTX_U, 3);
        FieldMath.eqTable(w + 0x100, c + CTX_U + 3 * 32, 7);
        SumKzgRelations.groupCoefficients(w, w + 0x1100);
        uint256 sub1 = _load(s, SK_SUB1);
        assembly ("memory-safe") {
            // Unreduced bases (≥ r > f), so that a_f = base − f needs no reduction.
            let r := R
            let alpha := mload(add(c, CTX_ALPHA))
            let lam := mload(add(c, CTX_LAMBDA))
            mstore(add(w, 0x1200), add(alpha, r))
            mstore(add(w, 0x1220), add(addmod(alpha, sub(r, lam), r), add(256, r)))
            mstore(add(w, 0x1240), add(addmod(alpha, sub(r, mulmod(2, lam, r)), r), add(sub1, r)))
        }
        // The entries both tables share: the bytes and λ + (0 .. min(2^{k1'}, 2^{k2'})).
        uint256 ts2 = _load(s, SK_TS2);
        uint256 common = sub1 < ts2 ? sub1 : ts2;
        (uint256 sn, uint256 sd) = _range(w, 0, 256, _load(w, 0x1200), 0, 1);
        (sn, sd) = _range(w, 256, common, _load(w, 0x1220), sn, sd);
        (uint256 n1, uint256 d1) = _range(w, common, sub1, _load(w, 0x1220), 0, 1);
        (n1, d1) = _range(w, sub1, _load(s, SK_TS1), _load(w, 0x1240), n1, d1);
        (uint256 n2, uint256 d2) = _range(w, common, ts2, _load(w, 0x1220), 0, 1);
        // Tα1 = sn/sd + n1/d1, Tα2 = sn/sd + n2/d2.
        return _storeTables(
            s,
            c,
            addmod(mulmod(sn, d1, R), mulmod(n1, sd, R), R),
            mulmod(sd, d1, R),
            addmod(mulmod(sn, d2, R), mulmod(n2, sd, R), R),
            mulmod(sd, d2, R)
        );
    }

    /// @dev Tα1 = n1/d1 and Tα2 = n2/d2 times Π_{v>10}(1 − u_v), with one inversion; false if
    ///      d1·d2 = 0 (α is a table value).
    function _storeTables(uint256 s, uint256 c, uint256 n1, uint256 d1, uint256 n2, uint256 d2)
        private
        view
        returns (bool)
    {
        uint256 inv = FieldMath.inverse(mulmod(d1, d2, R));
        if (inv == 0) return false;
        inv = mulmod(inv, FieldMath.eqZero(c + CTX_U + 10 * 32, _load(c, CTX_ELL) - 10), R);
        _pv(s, PV_TA1, mulmod(mulmod(n1, d2, R), inv, R));
        _pv(s, PV_TA2, mulmod(mulmod(n2, d1, R), inv, R));
        return true;
    }

    /// @dev Adds Σ_{start≤f<end} w[f mod 8]·wHi[f div 8]/(base − f) to the fraction num/den (the
    ///      scratch of `_tables` at `w`). Eight consecutive entries f0 + i (f0 a multiple of 8) share
    ///      a = base − f0 and Σ_i w_i/(a − i) = P(a)/Q(a) with Q(a) = Π_{i<8}(a − i) =
    ///      t(t + 6)(t + 10)(t + 12), t = a(a − 7), and P of degree 7 whose coefficients depend on the
    ///      w_i only (`SumKzgRelations.groupCoefficients`); entries outside whole groups go one by one.
    function _range(uint256 w, uint256 start, uint256 end, uint256 base, uint256 num, uint256 den)
        private
        pure
        returns (uint256, uint256)
    {
        assembly ("memory-safe") {
            // One entry f: num/den += e/a.
            function single(f, wp, b, n, d) -> n2, d2 {
                let r := R
                let e := mulmod(mload(add(wp, shl(5, and(f, 7)))), mload(add(add(wp, 0x100), shl(5, shr(3, f)))), r)
                let a := sub(b, f)
                n2 := addmod(mulmod(n, a, r), mulmod(e, d, r), r)
                d2 := mulmod(d, a, r)
            }
            // A group of 8 from f (a multiple of 8): num/den += wHi·P(a)/Q(a), a = base − f.
            function group(f, wp, b, n, d) -> n2, d2 {
                let r := R
                let a := sub(b, f)
                let co := add(wp, 0x1100)
                let pa := addmod(a, mload(add(co, 0xc0)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(co, 0xa0)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(co, 0x80)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(co, 0x60)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(co, 0x40)), r)
                pa := addmod(mulmod(pa, a, r), mload(add(co, 0x20)), r)
                pa := addmod(mulmod(pa, a, r), mload(co), r)
                let t := mulmod(a, sub(a, 7), r)
                let qa := mulmod(mulmod(t, add(t, 6), r), mulmod(add(t, 10), add(t, 12), r), r)
                pa := mulmod(pa, mload(add(add(wp, 0x100), shl(5, shr(3, f)))), r)
                n2 := addmod(mulmod(n, qa, r), mulmod(pa, d, r), r)
                d2 := mulmod(d, qa, r)
            }
            let f := start
            for {} and(lt(f, end), iszero(iszero(and(f, 7)))) { f := add(f, 1) } { num, den :=
                single(f, w, base, num, den) }
            for {} iszero(gt(add(f, 8), end)) { f := add(f, 8) } { num, den := group(f, w, base, num, den) }
            for {} lt(f, end) { f := add(f, 1) } { num, den := single(f, w, base, num, den) }
        }
        return (num, den);
    }

    function _load(uint256 base, uint256 offset) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(base, offset))
        }
    }

    function _pv(uint256 s, uint256 slot, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(add(s, SK_PV), slot), v)
        }
    }
}
