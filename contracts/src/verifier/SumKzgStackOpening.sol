// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Bls12381} from "./Bls12381.sol";
import {FieldMath} from "./FieldMath.sol";
import {
    CTX_BETA,
    CTX_DELTA,
    CTX_ELL,
    CTX_NU,
    CTX_P_CA,
    CTX_P_EV,
    CTX_P_FE,
    CTX_P_FOLD,
    CTX_P_LE,
    CTX_P_LIB,
    CTX_P_WQ,
    CTX_Q,
    CTX_SIZE,
    CTX_U
} from "./SumKzgLayout.sol";
import {
    SK_KL1,
    SK_KL2,
    SK_KWP,
    SK_KWV,
    SK_P_ACT,
    SK_P_H1,
    SK_P_H2,
    SK_P_LIMB1,
    SK_P_LIMB2,
    SK_P_MU1,
    SK_P_MU2,
    SK_P_P,
    SK_P_R1,
    SK_P_V,
    SK_SIZE
} from "./SumKzgStackLayout.sol";

/// @title The batched opening of SumKZG-ML v2-stack (docs/proof-system-stack.md S6 step 6, with
///        docs/proof-system-zk.md Z6, Z7)
/// @notice Opens Q = Σ_{p≠4} ν^p·Σ_c eq(u_hi, c)·P_p[chunk c] + ν^4·Act_chunk + u_ℓ(1 − u_ℓ)·(R1_chunk
///         + ν^5·R2_chunk) + ν^9·Mk at u_lo to v_Q = Σ_{p<9} ν^p·evals[p] + ν^9·M̃k(u_lo), the opened
///         polynomials in the order P, Limb1, H1, Mu1, Act, V, Limb2, H2, Mu2, with the four-point
///         check of Z7 (the same as HyperKzgLib's): L is one G1MSM over every chunk commitment, C_Act,
///         C_R1, C_R2, C_Mk, the folds, G[0], C_Lib, C_A, C_Q and the W_j; −R one 4-point G1MSM; then
///         one 2-pair PAIRING_CHECK.
library SumKzgStackOpening {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 private constant LOG_D = 12;
    /// @dev ω (order 128): s_3 = ωβ.
    uint256 private constant OMEGA = 0x6898111413588742b7c68b4d7fdd60d098d0caac87f5713c5130c2c1660125be;

    /// @notice Whether the opening in the proof verifies (every challenge already drawn).
    function verifyOpening(uint256 s) internal view returns (bool) {
        uint256 c = s + SK_SIZE;
        (bool ok, uint256 b0, uint256 b1, uint256 b2) = _foldChecks(c, _claimedValue(c));
        if (!ok) return false;
        uint256 ell;
        assembly ("memory-safe") {
            ell := mload(add(c, CTX_ELL))
        }
        uint256 eqHi = c + CTX_SIZE;
        FieldMath.eqTable(eqHi, c + CTX_U + 32 * LOG_D, ell - LOG_D);
        uint256 buf = eqHi + (uint256(32) << (ell - LOG_D));
        uint256 k = _msmInput(s, c, eqHi, buf, b0, b1, b2);
        if (!Bls12381.g1Msm(buf, k, buf)) return false;
        Bls12381.writeH0(buf + 128);
        _negRInput(c, buf + 768);
        if (!Bls12381.g1Msm(buf + 768, 4, buf + 384)) return false;
        Bls12381.writeH1(buf + 512);
        return Bls12381.pairingCheck(buf, 2);
    }

    /// @dev v_Q = Σ_{p≤9} ν^p·evals[p] (evals[9] = M̃k(u_lo)).
    function _claimedValue(uint256 c) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            let nu := mload(add(c, CTX_NU))
            let ev := mload(add(c, CTX_P_EV))
            for { let p := 10 } gt(p, 0) {} {
                p := sub(p, 1)
                v := addmod(mulmod(v, nu, R), calldataload(add(ev, shl(5, p))), R)
            }
        }
    }

    /// @dev HyperKzgLib's fold equations: for i = 0..d−1, with a = P_i(β), b = P_i(−β), x = u_{i+1}:
    ///      (1 − x)(a + b)·β + x·(a − b) = 2β·P_{i+1}(β²) (= 2β·v for i = d−1); returns also
    ///      B(s_j) = Σ_i q^i P_i(s_j) for s = (β, −β, β²).
    function _foldChecks(uint256 c, uint256 v) private pure returns (bool ok, uint256 b0, uint256 b1, uint256 b2) {
        assembly ("memory-safe") {
            let r := R
            let beta := mload(add(c, CTX_BETA))
            let fe := mload(add(c, CTX_P_FE))
            let q := mload(add(c, CTX_Q))
            ok := 1
            for { let i := LOG_D } gt(i, 0) {} {
                i := sub(i, 1)
                let o := add(fe, mul(96, i))
                let a := calldataload(o)
                let b := calldataload(add(o, 0x20))
                let x := mload(add(add(c, CTX_U), shl(5, i)))
                let lhs := mulmod(mulmod(addmod(1, sub(r, x), r), addmod(a, b, r), r), beta, r)
                lhs := addmod(lhs, mulmod(x, addmod(a, sub(r, b), r), r), r)
                if iszero(eq(lhs, mulmod(addmod(beta, beta, r), v, r))) { ok := 0 }
                v := calldataload(add(o, 0x40))
                b0 := addmod(mulmod(b0, q, r), a, r)
                b1 := addmod(mulmod(b1, q, r), b, r)
                b2 := addmod(mulmod(b2, q, r), v, r)
            }
        }
    }

    /// @dev Writes the (point ‖ scalar) pairs of L at `buf`; returns their count. With
    ///      S = 1 + δ + δ²: chunk c of opened polynomial p ≠ 4 gets S·ν^p·eq(u_hi, c), C_Act S·ν^4,
    ///      C_R1 S·u_ℓ(1 − u_ℓ), C_R2 S·u_ℓ(1 − u_ℓ)·ν^5, C_Mk S·ν^9, fold C_i S·q^i, G[0]
    ///      −Σ_j δ^j·B_j(s_j), C_Lib q^d, C_A q^{d+1} + δ³, C_Q q^{d+2}, W_j δ^j·s_j.
    function _msmInput(uint256 s, uint256 c, uint256 eqHi, uint256 buf, uint256 b0, uint256 b1, uint256 b2)
        private
        pure
        returns (uint256 k)
    {
        uint256 sumDelta;
        assembly ("memory-safe") {
            let delta := mload(add(c, CTX_DELTA))
            sumDelta := addmod(addmod(1, delta, R), mulmod(delta, delta, R), R)
        }
        uint256 g0Scalar = _g0Scalar(c, b0, b1, b2);
        uint256 ptr = _openedPairs(s, c, eqHi, buf, sumDelta);
        ptr = _foldPairs(c, ptr, sumDelta);
        Bls12381.writeG0(ptr);
        ptr = _tailPairs(c, ptr, g0Scalar);
        k = (ptr - buf) / 160;
    }

    /// @dev q^d = q^12.
    function _qd(uint256 c) private pure returns (uint256 qd) {
        assembly ("memory-safe") {
            let q := mload(add(c, CTX_Q))
            qd := mulmod(q, q, R) // q^2
            qd := mulmod(qd, q, R) // q^3
            qd := mulmod(qd, qd, R) // q^6
            qd := mulmod(qd, qd, R) // q^12
        }
    }

    /// @dev −Σ_j δ^j·B_j(s_j) with B_0(β) = B(β) + q^d·(Lib̂(β) + q·Â(β) + q²·Q̂(β)),
    ///      B_1(−β) = B(−β), B_2(β²) = B(β²), B_3(ωβ) = Â(ωβ).
    function _g0Scalar(uint256 c, uint256 b0, uint256 b1, uint256 b2) private pure returns (uint256 g0) {
        uint256 qd = _qd(c);
        assembly ("memory-safe") {
            let r := R
            let delta := mload(add(c, CTX_DELTA))
            let q := mload(add(c, CTX_Q))
            let le := mload(add(c, CTX_P_LE))
            let t := addmod(calldataload(add(le, 0x20)), mulmod(q, calldataload(add(le, 0x40)), r), r)
            t := addmod(calldataload(le), mulmod(q, t, r), r)
            b0 := addmod(b0, mulmod(qd, t, r), r)
            let bSum := mulmod(delta, calldataload(add(le, 0x60)), r)
            bSum := mulmod(delta, addmod(b2, bSum, r), r)
            bSum := addmod(b0, mulmod(delta, addmod(b1, bSum, r), r), r)
            g0 := addmod(sub(r, bSum), 0, r)
        }
    }

    /// @dev The G[0] scalar (its point is already at `ptr`), C_Lib (q^d), C_A (q^{d+1} + δ³), C_Q
    ///      (q^{d+2}) and W_j (δ^j·s_j, s = (β, −β, β², ωβ)); returns the end.
    function _tailPairs(uint256 c, uint256 ptr, uint256 g0Scalar) private pure returns (uint256) {
        uint256 qd = _qd(c);
        assembly ("memory-safe") {
            let r := R
            mstore(add(ptr, 0x80), g0Scalar)
            ptr := add(ptr, 160)
            let delta := mload(add(c, CTX_DELTA))
            let q := mload(add(c, CTX_Q))
            calldatacopy(ptr, mload(add(c, CTX_P_LIB)), 0x80)
            mstore(add(ptr, 0x80), qd)
            let pCa := mload(add(c, CTX_P_CA))
            let d2 := mulmod(delta, delta, r)
            calldatacopy(add(ptr, 160), pCa, 0x80)
            mstore(add(ptr, 288), addmod(mulmod(qd, q, r), mulmod(d2, delta, r), r))
            calldatacopy(add(ptr, 320), add(pCa, 0x80), 0x80)
            mstore(add(ptr, 448), mulmod(mulmod(qd, q, r), q, r))
            ptr := add(ptr, 480)
            let beta := mload(add(c, CTX_BETA))
            let src := mload(add(c, CTX_P_WQ))
            calldatacopy(ptr, src, 0x80)
            mstore(add(ptr, 0x80), beta)
            calldatacopy(add(ptr, 160), add(src, 0x80), 0x80)
            mstore(add(ptr, 288), mulmod(delta, sub(r, beta), r))
            calldatacopy(add(ptr, 320), add(src, 0x100), 0x80)
            mstore(add(ptr, 448), mulmod(d2, mulmod(beta, beta, r), r))
            calldatacopy(add(ptr, 480), add(src, 0x180), 0x80)
            mstore(add(ptr, 608), mulmod(mulmod(d2, delta, r), mulmod(OMEGA, beta, r), r))
            ptr := add(ptr, 640)
        }
        return ptr;
    }

    /// @dev The opened polynomials' commitments (S6 step 6) and the masks C_R1, C_R2, C_Mk.
    function _openedPairs(uint256 s, uint256 c, uint256 eqHi, uint256 ptr, uint256 sumDelta)
        private
        pure
        returns (uint256)
    {
        uint256 nu;
        uint256 scale; // u_ℓ(1 − u_ℓ)
        assembly ("memory-safe") {
            nu := mload(add(c, CTX_NU))
            let uEll := mload(add(add(c, CTX_U), shl(5, sub(mload(add(c, CTX_ELL)), 1))))
            scale := mulmod(uEll, addmod(1, sub(R, uEll), R), R)
        }
        uint256 f = sumDelta; // S·ν^p
        ptr = _chunks(ptr, _get(s, SK_P_P), _get(s, SK_KWP), f, eqHi);
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_LIMB1), _get(s, SK_KL1), f, eqHi);
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_H1), _get(s, SK_KL1), f, eqHi);
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_MU1), 1, f, eqHi);
        f = mulmod(f, nu, R);
        ptr = _pair(ptr, _get(s, SK_P_ACT), f); // Act: periodic, no chunk weight
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_V), _get(s, SK_KWV), f, eqHi);
        uint256 pR1 = _get(s, SK_P_R1);
        ptr = _pair(ptr, pR1, mulmod(sumDelta, scale, R));
        ptr = _pair(ptr, pR1 + 128, mulmod(f, scale, R));
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_LIMB2), _get(s, SK_KL2), f, eqHi);
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_H2), _get(s, SK_KL2), f, eqHi);
        f = mulmod(f, nu, R);
        ptr = _chunks(ptr, _get(s, SK_P_MU2), 1, f, eqHi);
        f = mulmod(f, nu, R);
        uint256 pMk;
        assembly ("memory-safe") {
            pMk := add(mload(add(c, CTX_P_LIB)), 0x80)
        }
        return _pair(ptr, pMk, f);
    }

    /// @dev `k` consecutive chunk commitments at calldata `src`, chunk c with scalar f·eq(u_hi, c).
    function _chunks(uint256 ptr, uint256 src, uint256 k, uint256 f, uint256 eqHi) private pure returns (uint256) {
        assembly ("memory-safe") {
            let end := add(src, shl(7, k))
            for {} lt(src, end) { src := add(src, 0x80) } {
                calldatacopy(ptr, src, 0x80)
                mstore(add(ptr, 0x80), mulmod(f, mload(eqHi), R))
                eqHi := add(eqHi, 0x20)
                ptr := add(ptr, 160)
            }
        }
        return ptr;
    }

    /// @dev One pair: the point at calldata `src` with `scalar`.
    function _pair(uint256 ptr, uint256 src, uint256 scalar) private pure returns (uint256) {
        assembly ("memory-safe") {
            calldatacopy(ptr, src, 0x80)
            mstore(add(ptr, 0x80), scalar)
        }
        return ptr + 160;
    }

    /// @dev The folds C_1..C_{d−1}, scalars S·q^i.
    function _foldPairs(uint256 c, uint256 ptr, uint256 sumDelta) private pure returns (uint256) {
        assembly ("memory-safe") {
            let q := mload(add(c, CTX_Q))
            let src := mload(add(c, CTX_P_FOLD))
            let f := mulmod(sumDelta, q, R)
            for { let end := add(src, shl(7, sub(LOG_D, 1))) } lt(src, end) { src := add(src, 0x80) } {
                calldatacopy(ptr, src, 0x80)
                mstore(add(ptr, 0x80), f)
                f := mulmod(f, q, R)
                ptr := add(ptr, 160)
            }
        }
        return ptr;
    }

    /// @dev Writes the pairs of −R = Σ_{j<4} (−δ^j)·W_j at `ptr`.
    function _negRInput(uint256 c, uint256 ptr) private pure {
        assembly ("memory-safe") {
            let r := R
            let delta := mload(add(c, CTX_DELTA))
            let src := mload(add(c, CTX_P_WQ))
            calldatacopy(ptr, src, 0x80)
            mstore(add(ptr, 0x80), sub(r, 1))
            calldatacopy(add(ptr, 160), add(src, 0x80), 0x80)
            mstore(add(ptr, 288), addmod(sub(r, delta), 0, r))
            calldatacopy(add(ptr, 320), add(src, 0x100), 0x80)
            let d2 := mulmod(delta, delta, r)
            mstore(add(ptr, 448), addmod(sub(r, d2), 0, r))
            calldatacopy(add(ptr, 480), add(src, 0x180), 0x80)
            mstore(add(ptr, 608), addmod(sub(r, mulmod(d2, delta, r)), 0, r))
        }
    }

    function _get(uint256 base, uint256 slot) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(base, slot))
        }
    }
}
