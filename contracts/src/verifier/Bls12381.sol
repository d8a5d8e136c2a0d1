// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title BLS12-381 through the EIP-2537 precompiles
/// @notice Encodings (docs/proof-system.md §1): a G1 point is 128 bytes, x then y, each a 64-byte
///         big-endian base-field element whose first 16 bytes are zero; a G2 point is 256 bytes,
///         x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1. The point at infinity is all zeros.
/// @dev The precompiles do the on-curve and subgroup checks of every input of `G1MSM` and
///      `PAIRING_CHECK`; this library checks padding and coordinates below p itself, so that a
///      malformed encoding is rejected before any precompile runs. A precompile that fails burns the
///      gas it was given, so a failure must mean "invalid input", never "too little gas": a call
///      first requires the EIP-2537 price (plus the 1/64 the EVM keeps and `GAS_RESERVE`) to be
///      available and reverts with `NotEnoughGas` otherwise (so that eth_estimateGas and a caller
///      with too little gas see a revert, not a rejection); it then forwards all but `GAS_RESERVE`,
///      so a future repricing only needs more gas, and a failure still leaves the caller enough to
///      return false.
library Bls12381 {
    /// @notice EIP-2537 G1 multi-scalar multiplication: k·(128-byte point ‖ 32-byte scalar) → 128 bytes.
    uint256 internal constant G1MSM = 0x0c;
    /// @notice EIP-2537 pairing check: k·(128-byte G1 ‖ 256-byte G2) → 32 bytes, 1 iff the product is 1.
    uint256 internal constant PAIRING_CHECK = 0x0f;
    /// @notice Gas kept back from a precompile call so that a failing call cannot starve the caller.
    uint256 internal constant GAS_RESERVE = 20_000;

    /// @notice EIP-2537 G1MSM price: k·G1MSM_MUL_GAS·discount(k)/1000.
    uint256 internal constant G1MSM_MUL_GAS = 12_000;
    /// @notice EIP-2537 pairing price: PAIRING_BASE_GAS + PAIRING_PAIR_GAS·k.
    uint256 internal constant PAIRING_BASE_GAS = 37_700;
    /// @notice EIP-2537 pairing price per pair.
    uint256 internal constant PAIRING_PAIR_GAS = 32_600;

    // EIP-2537's G1MSM discount table, discount(k) for k = 1..128 as 16-bit entries, 16 per word
    // (entry k − 1 at bits 16·((k − 1) mod 16) of word (k − 1) div 16); 519 beyond.
    uint256 private constant DISCOUNT_0 = 0x02a502aa02af02b402ba02c102c802cf02d802e202ee02fc031d035003b503e8;
    uint256 private constant DISCOUNT_1 = 0x027302760278027b027d0280028202850288028b028e029202950299029d02a1;
    uint256 private constant DISCOUNT_2 = 0x025602570259025b025c025e026002610263026502670269026b026d026f0271;
    uint256 private constant DISCOUNT_3 = 0x02400241024302440245024602480249024a024c024d024f0250025102530254;
    uint256 private constant DISCOUNT_4 = 0x022f0230023102320233023402350236023702380239023a023c023d023e023f;
    uint256 private constant DISCOUNT_5 = 0x02200221022202230223022402250226022702280229022a022b022c022d022e;
    uint256 private constant DISCOUNT_6 = 0x021302140214021502160217021802180219021a021b021c021c021d021e021f;
    uint256 private constant DISCOUNT_7 = 0x0207020802080209020a020a020b020c020d020d020e020f0210021002110212;
    uint256 private constant DISCOUNT_MAX = 519;

    /// @notice Less gas is left than a precompile call needs (`needed`, per the EIP-2537 schedule).
    error NotEnoughGas(uint256 needed, uint256 available);

    /// @notice Upper 128 bits of the base field modulus p (the first 16 bytes of an encoding are zero).
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    /// @notice Lower 256 bits of p.
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    // G[0] = [1]₁, the G1 generator (first point of the setup's monomial section).
    uint256 internal constant G0_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 internal constant G0_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 internal constant G0_Y_HI = 0x08b3f481e3aaa0f1a09e30ed741d8ae4;
    uint256 internal constant G0_Y_LO = 0xfcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1;

    // H0 = [1]₂, the G2 generator (the setup's first G2 monomial point).
    uint256 internal constant H0_X0_HI = 0x024aa2b2f08f0a91260805272dc51051;
    uint256 internal constant H0_X0_LO = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    uint256 internal constant H0_X1_HI = 0x13e02b6052719f607dacd3a088274f65;
    uint256 internal constant H0_X1_LO = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    uint256 internal constant H0_Y0_HI = 0x0ce5d527727d6e118cc9cdc6da2e351a;
    uint256 internal constant H0_Y0_LO = 0xadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801;
    uint256 internal constant H0_Y1_HI = 0x0606c4a02ea734cc32acd2b02bc28b99;
    uint256 internal constant H0_Y1_LO = 0xcb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be;

    // H1 = [τ]₂ (the setup's second G2 monomial point).
    uint256 internal constant H1_X0_HI = 0x185cbfee53492714734429b7b38608e2;
    uint256 internal constant H1_X0_LO = 0x3926c911cceceac9a36851477ba4c60b087041de621000edc98edada20c1def2;
    uint256 internal constant H1_X1_HI = 0x15bfd7dd8cdeb128843bc287230af389;
    uint256 internal constant H1_X1_LO = 0x26187075cbfbefa81009a2ce615ac53d2914e5870cb452d2afaaab24f3499f72;
    uint256 internal constant H1_Y0_HI = 0x014353bdb96b626dd7d5ee8599d1fca2;
    uint256 internal constant H1_Y0_LO = 0x131569490e28de18e82451a496a9c9794ce26d105941f383ee689bfbbb832a99;
    uint256 internal constant H1_Y1_HI = 0x1666c54b0a32529503432fcae0181b4b;
    uint256 internal constant H1_Y1_LO = 0xef79de09fc63671fda5ed1ba9bfa07899495346f3d7ac9cd23048ef30d0a154f;

    /// @notice Whether the `count` consecutive 128-byte G1 encodings at calldata offset `start` have
    ///         zero padding and both coordinates below p (curve and subgroup are the precompiles').
    function canonicalPoints(uint256 start, uint256 count) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            ok := 1
            let pHi := P_HI
            let end := add(start, shl(7, count))
            for { let o := start } lt(o, end) { o := add(o, 0x80) } {
                // A coordinate is (hi, lo) with hi its first 32 bytes: canonical iff hi < P_HI, or
                // hi = P_HI and lo < P_LO. Non-zero padding makes hi ≥ 2^128 > P_HI, so this covers
                // it too. The common case hi < P_HI for both is one test.
                let xh := calldataload(o)
                let yh := calldataload(add(o, 0x40))
                if iszero(and(lt(xh, pHi), lt(yh, pHi))) {
                    let xOk := or(lt(xh, pHi), and(eq(xh, pHi), lt(calldataload(add(o, 0x20)), P_LO)))
                    let yOk := or(lt(yh, pHi), and(eq(yh, pHi), lt(calldataload(add(o, 0x60)), P_LO)))
                    if iszero(and(xOk, yOk)) {
                        ok := 0
                        break
                    }
                }
            }
        }
    }

    /// @notice Writes the 128-byte encoding of G[0] = [1]₁ at memory `ptr`.
    function writeG0(uint256 ptr) internal pure {
        assembly ("memory-safe") {
            mstore(ptr, G0_X_HI)
            mstore(add(ptr, 0x20), G0_X_LO)
            mstore(add(ptr, 0x40), G0_Y_HI)
            mstore(add(ptr, 0x60), G0_Y_LO)
        }
    }

    /// @notice Writes the 256-byte encoding of H0 = [1]₂ at memory `ptr`.
    function writeH0(uint256 ptr) internal pure {
        assembly ("memory-safe") {
            mstore(ptr, H0_X0_HI)
            mstore(add(ptr, 0x20), H0_X0_LO)
            mstore(add(ptr, 0x40), H0_X1_HI)
            mstore(add(ptr, 0x60), H0_X1_LO)
            mstore(add(ptr, 0x80), H0_Y0_HI)
            mstore(add(ptr, 0xa0), H0_Y0_LO)
            mstore(add(ptr, 0xc0), H0_Y1_HI)
            mstore(add(ptr, 0xe0), H0_Y1_LO)
        }
    }

    /// @notice Writes the 256-byte encoding of H1 = [τ]₂ at memory `ptr`.
    function writeH1(uint256 ptr) internal pure {
        assembly ("memory-safe") {
            mstore(ptr, H1_X0_HI)
            mstore(add(ptr, 0x20), H1_X0_LO)
            mstore(add(ptr, 0x40), H1_X1_HI)
            mstore(add(ptr, 0x60), H1_X1_LO)
            mstore(add(ptr, 0x80), H1_Y0_HI)
            mstore(add(ptr, 0xa0), H1_Y0_LO)
            mstore(add(ptr, 0xc0), H1_Y1_HI)
            mstore(add(ptr, 0xe0), H1_Y1_LO)
        }
    }

    /// @notice The EIP-2537 price of a G1MSM of `k` pairs.
    function g1MsmGas(uint256 k) internal pure returns (uint256) {
        if (k == 0) return 0;
        uint256 discount = DISCOUNT_MAX;
        if (k <= 128) {
            uint256 i = k - 1;
            uint256 w;
            assembly ("memory-safe") {
                switch shr(4, i)
                case 0 { w := DISCOUNT_0 }
                case 1 { w := DISCOUNT_1 }
                case 2 { w := DISCOUNT_2 }
                case 3 { w := DISCOUNT_3 }
                case 4 { w := DISCOUNT_4 }
                case 5 { w := DISCOUNT_5 }
                case 6 { w := DISCOUNT_6 }
                default { w := DISCOUNT_7 }
            }
            discount = (w >> (16 * (i & 15))) & 0xffff;
        }
        return k * G1MSM_MUL_GAS * discount / 1000;
    }

    /// @notice G1MSM over the `k` (point ‖ scalar) pairs at memory `input`; the 128-byte result goes
    ///         to memory `output`. False if the precompile fails (an input off the curve or outside
    ///         the subgroup) or is missing; reverts with NotEnoughGas when too little gas is left.
    function g1Msm(uint256 input, uint256 k, uint256 output) internal view returns (bool ok) {
        _requireGas(g1MsmGas(k));
        assembly ("memory-safe") {
            ok := staticcall(sub(gas(), GAS_RESERVE), G1MSM, input, mul(k, 160), output, 0x80)
            ok := and(ok, eq(returndatasize(), 0x80))
        }
    }

    /// @notice PAIRING_CHECK over the `pairs` (G1 ‖ G2) pairs at memory `input`: true iff the
    ///         precompile succeeds and answers 1; reverts with NotEnoughGas when too little gas is left.
    function pairingCheck(uint256 input, uint256 pairs) internal view returns (bool ok) {
        _requireGas(PAIRING_BASE_GAS + PAIRING_PAIR_GAS * pairs);
        assembly ("memory-safe") {
            ok := staticcall(sub(gas(), GAS_RESERVE), PAIRING_CHECK, input, mul(pairs, 384), 0x00, 0x20)
            ok := and(and(ok, eq(returndatasize(), 0x20)), eq(mload(0x00), 1))
        }
    }

    /// @dev Reverts unless a call forwarding all but GAS_RESERVE (capped at 63/64 by the EVM) gets
    ///      at least `price`.
    function _requireGas(uint256 price) private view {
        uint256 needed = price + price / 63 + GAS_RESERVE + 1000;
        if (gasleft() < needed) revert NotEnoughGas(needed, gasleft());
    }
}
