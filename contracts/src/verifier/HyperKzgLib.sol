// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Bls12381} from "./Bls12381.sol";
import {FieldMath} from "./FieldMath.sol";
import {
    CTX_BETA,
    CTX_DELTA,
    CTX_ELL,
    CTX_KIND,
    CTX_NPOLY,
    CTX_NU,
    CTX_P_CA,
    CTX_P_CR,
    CTX_P_EV,
    CTX_P_FE,
    CTX_P_FOLD,
    CTX_P_LE,
    CTX_P_LIB,
    CTX_P_WQ,
    CTX_POLY_K,
    CTX_POLY_OFF,
    CTX_Q,
    CTX_SIZE,
    CTX_U
} from "./SumKzgLayout.sol";

/// @title The batched multilinear opening of SumKZG-ML v2 (docs/proof-system.md §7 step 6, §8 with
///        docs/proof-system-zk.md Z4, Z6, Z7)
/// @notice Opens Q = Σ_{p<P} ν^p Σ_c eq(u_hi, c)·P_{p,c} + ν^P·Mk (+ u_ℓ(1 − u_ℓ)·R_chunk in W′'s
///         slot ν^0, inference) at u_lo = (u_1..u_12) to v_Q = Σ_{p<P} ν^p P̃_p(u) + ν^P·M̃k(u_lo),
///         and Lib̂, Â, Q̂ at β and Â at ωβ, with the four-point check: the fold equations, then
///         e(L, H0)·e(−R, H1) = 1 with L = Σ_{j<4} δ^j (C_{B_j} − B_j(s_j)·G[0] + s_j·W_j),
///         R = Σ_j δ^j W_j, s = (β, −β, β², ωβ), C_{B_0} = C_B + q^d·C_Lib + q^{d+1}·C_A +
///         q^{d+2}·C_Q, C_{B_1} = C_{B_2} = C_B, C_{B_3} = C_A, C_B = Σ_i q^i C_i (C_0 = the
///         commitment of Q). L is one G1MSM over every chunk commitment, C_R, C_Mk, the folds,
///         G[0], C_Lib, C_A, C_Q and the W_j; −R one 4-point G1MSM; then one 2-pair PAIRING_CHECK.
library HyperKzgLib {
    uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    uint256 private constant LOG_D = 12;
    /// @dev ω (order 128): s_3 = ωβ.
    uint256 private constant OMEGA = 0x6898111413588742b7c68b4d7fdd60d098d0caac87f5713c5130c2c1660125be;

    /// @notice Whether the opening in the proof verifies (every challenge already drawn).
    function verifyOpening(uint256 c) internal view returns (bool) {
        (bool ok, uint256 b0, uint256 b1, uint256 b2) = _foldChecks(c, _claimedValue(c));
        if (!ok) return false;
        uint256 ell;
        assembly ("memory-safe") {
            ell := mload(add(c, CTX_ELL))
        }
        // eq(u_hi, c) for every chunk index: variables d+1..ℓ.
        uint256 eqHi = c + CTX_SIZE;
        FieldMath.eqTable(eqHi, c + CTX_U + 32 * LOG_D, ell - LOG_D);
        uint256 buf = eqHi + (uint256(32) << (ell - LOG_D));
        uint256 k = _msmInput(c, eqHi, buf, b0, b1, b2);
        // L goes to buf (the input is read before the output is written); then the pairing input
        // L ‖ H0 ‖ −R ‖ H1 is assembled at buf.
        if (!Bls12381.g1Msm(buf, k, buf)) return false;
        Bls12381.writeH0(buf + 128);
        _negRInput(c, buf + 768);
        if (!Bls12381.g1Msm(buf + 768, 4, buf + 384)) return false;
        Bls12381.writeH1(buf + 512);
        return Bls12381.pairingCheck(buf, 2);
    }

    /// @dev v_Q = Σ_{p<P} ν^p P̃_p(u) + ν^P·M̃k(u_lo) from the final evaluations (M̃k(u_lo) is
    ///      evaluation P).
    function _claimedValue(uint256 c) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            let nu := mload(add(c, CTX_NU))
            let ev := mload(add(c, CTX_P_EV))
            // Horner from M̃k(u_lo).
            for { let p := add(mload(add(c, CTX_NPOLY)), 1) } gt(p, 0) {} {
                p := sub(p, 1)
                v := addmod(mulmod(v, nu, R), calldataload(add(ev, shl(5, p))), R)
            }
        }
    }

    /// @dev For i = 0..d−1, with a = P_i(β), b = P_i(−β) and x = u_{i+1}:
    ///      (1 − x)(a + b)·β + x·(a − b) = 2β·P_{i+1}(β²) (= 2β·v for i = d−1), i.e. Y_i times 2β.
    ///      Also returns B(s_j) = Σ_i q^i P_i(s_j) for s = (β, −β, β²).
    function _foldChecks(uint256 c, uint256 v) private pure returns (bool ok, uint256 b0, uint256 b1, uint256 b2) {
        assembly ("memory-safe") {
            let r := R
            let beta := mload(add(c, CTX_BETA))
            let fe := mload(add(c, CTX_P_FE))
            let q := mload(add(c, CTX_Q))
            ok := 1
            // `v` holds the next value (P_{i+1}(β²), or v at the end), walking i downwards so that
            // B(s_j) accumulates by Horner in q.
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

    /// @dev Writes the (point ‖ scalar) pairs of L at `buf`; returns their count. With S = 1 + δ + δ²:
    ///      chunk c of polynomial p gets S·ν^p·eq(u_hi, c), C_Mk gets S·ν^P, C_R (inference) gets
    ///      S·u_ℓ(1 − u_ℓ), fold C_i gets S·q^i, G[0] gets −Σ_j δ^j B_j(s_j), C_Lib gets q^d, C_A gets
    ///      q^{d+1} + δ³, C_Q gets q^{d+2}, W_j gets δ^j·s_j.
    function _msmInput(uint256 c, uint256 eqHi, uint256 buf, uint256 b0, uint256 b1, uint256 b2)
        private
        pure
        returns (uint256 k)
    {
        uint256 sumDelta;
        assembly ("memory-safe") {
            let r := R
            let delta := mload(add(c, CTX_DELTA))
            sumDelta := addmod(addmod(1, delta, r), mulmod(delta, delta, r), r)
            // B_0(β) = B(β) + q^d·Lib̂(β) + q^{d+1}·Â(β) + q^{d+2}·Q̂(β) (in b0); B_3(ωβ) = Â(ωβ).
            let q := mload(add(c, CTX_Q))
            let qd := mulmod(q, q, r) // q^2
            qd := mulmod(qd, q, r) // q^3
            qd := mulmod(qd, qd, r) // q^6
            qd := mulmod(qd, qd, r) // q^12 = q^d
            let le := mload(add(c, CTX_P_LE))
            let t := addmod(calldataload(add(le, 0x20)), mulmod(q, calldataload(add(le, 0x40)), r), r)
            t := addmod(calldataload(le), mulmod(q, t, r), r)
            b0 := addmod(b0, mulmod(qd, t, r), r)
            // Σ_j δ^j B_j(s_j) by Horner in δ.
            let bSum := mulmod(delta, calldataload(add(le, 0x60)), r)
            bSum := mulmod(delta, addmod(b2, bSum, r), r)
            bSum := addmod(b0, mulmod(delta, addmod(b1, bSum, r), r), r)
            // Scratch for the scalars of G[0], C_Lib, C_A, C_Q after the context's Libra words
            // are no longer needed: kept on the stack via `b1`, `b2`.
            b1 := addmod(sub(r, bSum), 0, r)
            b2 := qd
        }
        uint256 ptr = _chunkPairs(c, eqHi, buf, sumDelta);
        ptr = _maskPairs(c, ptr, sumDelta);
        ptr = _foldPairs(c, ptr, sumDelta);
        Bls12381.writeG0(ptr);
        assembly ("memory-safe") {
            let r := R
            mstore(add(ptr, 0x80), b1)
            ptr := add(ptr, 160)
            let delta := mload(add(c, CTX_DELTA))
            let q := mload(add(c, CTX_Q))
            // C_Lib (q^d), C_A (q^{d+1} + δ³), C_Q (q^{d+2}).
            let pLib := mload(add(c, CTX_P_LIB))
            calldatacopy(ptr, pLib, 0x80)
            mstore(add(ptr, 0x80), b2)
            let pCa := mload(add(c, CTX_P_CA))
            let d2 := mulmod(delta, delta, r)
            calldatacopy(add(ptr, 160), pCa, 0x80)
            mstore(add(ptr, 288), addmod(mulmod(b2, q, r), mulmod(d2, delta, r), r))
            calldatacopy(add(ptr, 320), add(pCa, 0x80), 0x80)
            mstore(add(ptr, 448), mulmod(mulmod(b2, q, r), q, r))
            ptr := add(ptr, 480)
            // W_0..W_3 with δ^j·s_j, s = (β, −β, β², ωβ).
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
            k := div(sub(ptr, buf), 160)
        }
    }

    /// @dev C_Mk with S·ν^P and, for inference, C_R with S·u_ℓ(1 − u_ℓ) (Z4, Z6).
    function _maskPairs(uint256 c, uint256 ptr, uint256 sumDelta) private pure returns (uint256) {
        assembly ("memory-safe") {
            let r := R
            let nu := mload(add(c, CTX_NU))
            let f := sumDelta
            for { let p := mload(add(c, CTX_NPOLY)) } gt(p, 0) { p := sub(p, 1) } { f := mulmod(f, nu, r) }
            calldatacopy(ptr, add(mload(add(c, CTX_P_LIB)), 0x80), 0x80)
            mstore(add(ptr, 0x80), f)
            ptr := add(ptr, 160)
            if iszero(mload(add(c, CTX_KIND))) {
                let uEll := mload(add(add(c, CTX_U), shl(5, sub(mload(add(c, CTX_ELL)), 1))))
                calldatacopy(ptr, mload(add(c, CTX_P_CR)), 0x80)
                mstore(add(ptr, 0x80), mulmod(sumDelta, mulmod(uEll, addmod(1, sub(r, uEll), r), r), r))
                ptr := add(ptr, 160)
            }
        }
        return ptr;
    }

    /// @dev The chunk commitments of every opened polynomial, scalars S·ν^p·eq(u_hi, c).
    function _chunkPairs(uint256 c, uint256 eqHi, uint256 ptr, uint256 sumDelta) private pure returns (uint256) {
        assembly ("memory-safe") {
            let nu := mload(add(c, CTX_NU))
            let np := mload(add(c, CTX_NPOLY))
            let f := sumDelta
            for { let p := 0 } lt(p, np) { p := add(p, 1) } {
                let src := mload(add(add(c, CTX_POLY_OFF), shl(5, p)))
                let end := add(src, shl(7, mload(add(add(c, CTX_POLY_K), shl(5, p)))))
                let e := eqHi
                for {} lt(src, end) { src := add(src, 0x80) } {
                    calldatacopy(ptr, src, 0x80)
                    mstore(add(ptr, 0x80), mulmod(f, mload(e), R))
                    e := add(e, 0x20)
                    ptr := add(ptr, 160)
                }
                f := mulmod(f, nu, R)
            }
        }
        return ptr;
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
}
