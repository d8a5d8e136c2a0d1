// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {FieldMath} from "../../src/verifier/FieldMath.sol";
import {SumKzgTranscript} from "../../src/verifier/SumKzgTranscript.sol";
import {Test} from "../utils/Test.sol";
import {SumKzgLibHarness} from "./SumKzgHarness.sol";

/// @title The verifier's transcript and field helpers against the spec and naive references
contract SumKzgLibTest is Test {
    uint256 internal constant R = FieldMath.R;

    SumKzgLibHarness internal h;

    function setUp() public {
        h = new SumKzgLibHarness();
    }

    // ------------------------------------------------------------------ transcript golden vectors

    function _key(string memory prefix, uint256 i, string memory suffix) internal pure returns (string memory) {
        return string.concat(prefix, "[", vm.toString(i), "]", suffix);
    }

    function _count(string memory json, string memory arrayKey) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _key(arrayKey, n, ""))) ++n;
    }

    /// @notice tests/vectors/sumkzg_transcript.json (from the Python transcript): every state and
    ///         challenge, absorbing from calldata and from the memory buffer.
    function test_transcript_goldenVectors() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/sumkzg_transcript.json"));
        assertEq(vm.parseJsonUint(json, ".r"), R, "r");
        uint256 cases = _count(json, ".cases");
        assertGe(cases, 2);
        uint256 checked;
        for (uint256 i; i < cases; ++i) {
            string memory base = _key(".cases", i, "");
            SumKzgLibHarness.Op[] memory ops = _ops(json, base);
            checked += _checkCase(json, base, ops, false);
            checked += _checkCase(json, base, ops, true);
        }
        assertGe(checked, 20);
    }

    function _ops(string memory json, string memory base) internal view returns (SumKzgLibHarness.Op[] memory ops) {
        uint256 n = _count(json, string.concat(base, ".ops"));
        ops = new SumKzgLibHarness.Op[](n);
        for (uint256 j; j < n; ++j) {
            string memory op = _key(string.concat(base, ".ops"), j, "");
            if (vm.keyExistsJson(json, string.concat(op, ".absorb"))) {
                ops[j].isAbsorb = true;
                // forge-lint: disable-next-line(unsafe-typecast)
                ops[j].tag = uint8(vm.parseJsonUint(json, string.concat(op, ".absorb.tag")));
                ops[j].data = vm.parseJsonBytes(json, string.concat(op, ".absorb.data"));
            }
        }
    }

    function _checkCase(string memory json, string memory base, SumKzgLibHarness.Op[] memory ops, bool fromMemory)
        internal
        view
        returns (uint256 checked)
    {
        bytes memory domain = vm.parseJsonBytes(json, string.concat(base, ".domain"));
        (bytes32 initial, bytes32[] memory states, uint256[] memory challenges) = h.transcript(domain, ops, fromMemory);
        assertEq(initial, vm.parseJsonBytes32(json, string.concat(base, ".initial_state")), "initial");
        for (uint256 j; j < ops.length; ++j) {
            string memory op = _key(string.concat(base, ".ops"), j, "");
            assertEq(states[j], vm.parseJsonBytes32(json, string.concat(op, ".state")), "state");
            if (!ops[j].isAbsorb) {
                assertEq(challenges[j], vm.parseJsonUint(json, string.concat(op, ".challenge")), "challenge");
            }
            ++checked;
        }
    }

    function test_transcript_domains() public pure {
        assertEq(SumKzgTranscript.INFERENCE_DOMAIN, keccak256("SUMKZG-ML/v2/inference"));
        assertEq(SumKzgTranscript.REGISTRATION_DOMAIN, keccak256("SUMKZG-ML/v2/registration"));
    }

    // ------------------------------------------------------------------ field helpers vs naive

    function _pow(uint256 b, uint256 e) internal pure returns (uint256 acc) {
        acc = 1;
        b %= R;
        while (e > 0) {
            if (e & 1 == 1) acc = mulmod(acc, b, R);
            b = mulmod(b, b, R);
            e >>= 1;
        }
    }

    function _inv(uint256 x) internal pure returns (uint256) {
        return _pow(x, R - 2);
    }

    function _sub(uint256 a, uint256 b) internal pure returns (uint256) {
        return addmod(a, R - (b % R), R);
    }

    function test_constants() public pure {
        assertEq(FieldMath.TWO_256, mulmod(2 ** 128, 2 ** 128, R));
    }

    function testFuzz_inverse(uint256 x) public view {
        x = bound(x, 1, R - 1);
        uint256 y = h.inverse(x);
        assertEq(mulmod(x, y, R), 1);
        assertEq(y, _inv(x));
    }

    function test_inverse_zeroIsZero() public view {
        assertEq(h.inverse(0), 0);
    }

    function _point(uint256 seed, uint256 mu) internal pure returns (uint256[] memory w) {
        w = new uint256[](mu);
        for (uint256 i; i < mu; ++i) {
            w[i] = uint256(keccak256(abi.encode(seed, i))) % R;
        }
    }

    function _eqNaive(uint256[] memory w, uint256 f) internal pure returns (uint256 e) {
        e = 1;
        for (uint256 v; v < w.length; ++v) {
            e = mulmod(e, (f >> v) & 1 == 1 ? w[v] : _sub(1, w[v]), R);
        }
    }

    function testFuzz_eqTableAndScalars(uint256 seed, uint8 muSeed, uint256 fSeed) public view {
        uint256 mu = bound(muSeed, 0, 8);
        uint256[] memory w = _point(seed, mu);
        uint256[] memory table = h.eqTable(w);
        assertEq(table.length, uint256(1) << mu);
        uint256 sum;
        for (uint256 f; f < table.length; ++f) {
            assertEq(table[f], _eqNaive(w, f), "table entry");
            sum = addmod(sum, table[f], R);
        }
        assertEq(sum, 1, "eq sums to 1 over the cube");
        uint256 f0 = fSeed % table.length;
        (uint256 atIndex, uint256 prefixSum, uint256 atZero) = h.eqScalars(w, f0, f0);
        assertEq(atIndex, table[f0], "eqIndex");
        assertEq(atZero, table[0], "eqZero");
        uint256 prefix;
        for (uint256 f; f < f0; ++f) {
            prefix = addmod(prefix, table[f], R);
        }
        assertEq(prefixSum, prefix, "eqPrefixSum");
    }

    function testFuzz_eqPoints(uint256 seedA, uint256 seedB, uint8 muSeed) public view {
        uint256 mu = bound(muSeed, 0, 24);
        uint256[] memory a = _point(seedA, mu);
        uint256[] memory b = _point(seedB, mu);
        uint256 e = 1;
        for (uint256 v; v < mu; ++v) {
            e = mulmod(e, addmod(mulmod(a[v], b[v], R), mulmod(_sub(1, a[v]), _sub(1, b[v]), R), R), R);
        }
        assertEq(h.eqPoints(a, b), e);
    }

    // ------------------------------------------------------------------ precompile prices

    function test_g1MsmGas_eip2537Schedule() public view {
        assertEq(h.g1MsmGas(0), 0);
        assertEq(h.g1MsmGas(1), 12_000);
        assertEq(h.g1MsmGas(2), 2 * 12_000 * 949 / 1000);
        assertEq(h.g1MsmGas(3), 30_528); // the −R MSM
        assertEq(h.g1MsmGas(16), 16 * 12_000 * 677 / 1000);
        assertEq(h.g1MsmGas(17), 17 * 12_000 * 673 / 1000);
        assertEq(h.g1MsmGas(35), 35 * 12_000 * 621 / 1000);
        assertEq(h.g1MsmGas(64), 64 * 12_000 * 576 / 1000);
        assertEq(h.g1MsmGas(127), 127 * 12_000 * 520 / 1000);
        assertEq(h.g1MsmGas(128), 128 * 12_000 * 519 / 1000);
        assertEq(h.g1MsmGas(1000), 1000 * 12_000 * 519 / 1000);
    }

    // ------------------------------------------------------------------ layout

    /// @dev The bytes after the sumcheck (Z9): evals[P + 2] ‖ C_A ‖ C_Q ‖ folds[11] ‖ foldEvals[12][3]
    ///      ‖ libraEvals[4] ‖ W[4].
    function _tail(uint256 npoly) internal pure returns (uint256) {
        return 32 * (npoly + 2) + 128 * 2 + 128 * 11 + 32 * 36 + 32 * 4 + 128 * 4;
    }

    function test_layout_shapesAndLengths() public view {
        // 5×7, k = 12: m' = 8, n' = 512, ℓ = 12, L = 10, K_W = K_L = K_B = K_HW = 1. Inference:
        // C_W ‖ C_Limb ‖ C_Mu ‖ C_R ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H; registration: C_W ‖ C_BL ‖ C_Mu ‖ C_Lib ‖
        // C_Mk ‖ Γ ‖ C_HW ‖ C_HB.
        (bool ok, uint256 muI, uint256 muJ, uint256 inf, uint256 reg) = h.layout(5, 7, 12);
        assertTrue(ok);
        assertEq(muI, 3);
        assertEq(muJ, 9);
        assertEq(inf, 128 * 7 + 32 + 128 * 12 + _tail(4));
        assertEq(reg, 128 * 7 + 32 + 128 * 12 + _tail(5));
        // 256×256: cpc = 16 columns per chunk, g = 15 data columns, K_W = K_HW = ⌈257/15⌉ = 18,
        // n' = 2^⌈log₂ 288⌉ = 512, ℓ = 17, L = 9 ≤ g: posL(t) = t, K_L = 1; K_B = 1.
        (ok, muI, muJ, inf, reg) = h.layout(256, 256, 16);
        assertTrue(ok);
        assertEq(muI + muJ, 17);
        assertEq(inf, 128 * (18 + 1 + 1 + 3 + 1) + 32 + 128 * 17 + _tail(4));
        assertEq(reg, 128 * (18 + 1 + 1 + 2 + 18 + 1) + 32 + 128 * 17 + _tail(5));
        // 2048×5: cpc = 2, g = 1 (every other column a blinding column), K_W = 6, n' = 32 (m' = D/2:
        // the limbs span 2L columns), L = 9 at posL(t) = 2t: K_L = ⌊16/2⌋ + 1 = 9 (Z1: a free
        // column in every chunk), posB(3) = 6: K_B = 4.
        (ok, muI, muJ, inf, reg) = h.layout(2048, 5, 16);
        assertTrue(ok);
        assertEq(muI, 11);
        assertEq(muJ, 5);
        assertEq(inf, 128 * (6 + 9 + 1 + 3 + 9) + 32 + 128 * 16 + _tail(4));
        assertEq(reg, 128 * (6 + 4 + 1 + 2 + 6 + 4) + 32 + 128 * 16 + _tail(5));
        // 600×4, k = 13: m' = 1024, cpc = 4, g = 3, K_W = 2, n' = 16, L = 10 at posL = 0, 1, 2, 4,
        // 5, 6, 8, 9, 10, 12: K_L = 4; posB = 0, 1, 2, 4: K_B = 2.
        (ok, muI, muJ, inf, reg) = h.layout(600, 4, 13);
        assertTrue(ok);
        assertEq(muI + muJ, 14);
        assertEq(inf, 128 * (2 + 4 + 1 + 3 + 4) + 32 + 128 * 14 + _tail(4));
        assertEq(reg, 128 * (2 + 2 + 1 + 2 + 2 + 2) + 32 + 128 * 14 + _tail(5));
        // 300×8, k = 13: m' = 512, cpc = 8, g = 7, K_W = 2, posL(9) = 10: K_L = 2; K_B = 1.
        (ok, muI, muJ, inf, reg) = h.layout(300, 8, 13);
        assertTrue(ok);
        assertEq(muI + muJ, 13);
        assertEq(inf, 128 * (2 + 2 + 1 + 3 + 2) + 32 + 128 * 13 + _tail(4));
        assertEq(reg, 128 * (2 + 1 + 1 + 2 + 2 + 1) + 32 + 128 * 13 + _tail(5));
        // m = 1: m' = max(2, 1) = 2 (Z1), μ_i = 1, cpc = 2048, K_W = 1, n' = 2048.
        (ok, muI, muJ,,) = h.layout(1, 1, 1);
        assertTrue(ok);
        assertEq(muI, 1);
        assertEq(muJ, 11);
        // Refused: zero, above 65534, ℓ > 24.
        (ok,,,,) = h.layout(0, 5, 1);
        assertFalse(ok);
        (ok,,,,) = h.layout(5, 65_535, 1);
        assertFalse(ok);
        (ok,,,,) = h.layout(4096, 4096, 1);
        assertFalse(ok);
        // m' > D/2: a chunk would hold one column, no room for its blinding column.
        (ok,,,,) = h.layout(2049, 1, 1);
        assertFalse(ok);
        (ok,,,,) = h.layout(4096, 1, 1);
        assertFalse(ok);
        (ok,,,,) = h.layout(2048, 4095, 1); // 2^11 · 2^⌈log₂(2·4096)⌉ = 2^24
        assertTrue(ok);
        (ok,,,,) = h.layout(2048, 4096, 1); // 2^11 · 2^14
        assertFalse(ok);
    }

    // ------------------------------------------------------------------ the Libra identity (Z5)

    struct LibraCase {
        uint256[] u;
        uint256 sG;
        uint256 kappa;
        uint256 beta;
        uint256[4] evals;
    }

    uint256 internal constant OMEGA = 0x6898111413588742b7c68b4d7fdd60d098d0caac87f5713c5130c2c1660125be;

    function _libraCheck(LibraCase memory t) internal view returns (bool) {
        return h.libraIdentity(t.u, t.sG, t.kappa, t.beta, t.evals);
    }

    /// @notice The Solidity Libra identity accepts what P1's Python prover makes, and rejects any
    ///         change of an opened value, of s_G or κ, and β in H (β^N = 1).
    function test_libraIdentity_pythonCases() public view {
        LibraCase[2] memory cases = [_libraCase13(), _libraCase24()];
        for (uint256 k; k < 2; ++k) {
            LibraCase memory t = cases[k];
            assertTrue(_libraCheck(t), "honest");
            for (uint256 i; i < 4; ++i) {
                uint256 v = t.evals[i];
                t.evals[i] = addmod(v, 1, R);
                assertFalse(_libraCheck(t), "eval + 1");
                t.evals[i] = v;
            }
            t.sG = addmod(t.sG, 1, R);
            assertFalse(_libraCheck(t), "s_G + 1");
            t.sG = addmod(t.sG, R - 1, R);
            t.kappa = addmod(t.kappa, 1, R);
            assertFalse(_libraCheck(t), "kappa + 1");
            t.kappa = addmod(t.kappa, R - 1, R);
            t.u[0] = addmod(t.u[0], 1, R);
            assertFalse(_libraCheck(t), "u_1 + 1");
            t.u[0] = addmod(t.u[0], R - 1, R);
            assertTrue(_libraCheck(t), "restored");
            // β in H: rejected whatever the values (Z_H(β) = 0 would make the identity trivial).
            t.beta = 1;
            assertFalse(_libraCheck(t), "beta = 1");
            t.beta = OMEGA;
            assertFalse(_libraCheck(t), "beta = omega");
            t.beta = R - 1;
            assertFalse(_libraCheck(t), "beta = -1");
        }
    }

    function test_libraConstants() public pure {
        // ω has order exactly 128; ω^127 and 1/128 as the verifier holds them.
        assertEq(_pow(OMEGA, 128), 1);
        assertEq(_pow(OMEGA, 64), R - 1);
        assertEq(_pow(OMEGA, 127), 0x60c7efec34093e9a725ce48f79bf9cd60081066e578d78bf6207cd2f20df9d12);
        assertEq(mulmod(128, 0x7305cc04834a424da2d36457f98e9455491628baf9fe5f4701ffffff02000001, R), 1);
    }

    /// @dev Generated with sumkzg/libra.py (P1): masks, Â, Q̂ for ℓ = 13 at a random point, κ, β;
    ///      check_sum_identity accepts them.
    function _libraCase13() internal pure returns (LibraCase memory t) {
        t.u = new uint256[](13);
        t.u[0] = 0x4f3eb59b7936d536243d35702c1eea1f265974a7cc966f46c6aa7d550101b811;
        t.u[1] = 0x43eed75b84b28054aead44b0537390e50fcf31ca8e752fdf1ece615db9a6442e;
        t.u[2] = 0x745f64a8f6f915fe21b37ca1b29fc99c6c80e2bc8c614b27b8444d18e317041;
        t.u[3] = 0x39e0e69681f98b521905d591c5b2e75a0acd8be146e4099030f970583f9d52f9;
        t.u[4] = 0x29adb5217178ba0a1038f0b5e998d0eee4ddf9b9c28ee907072235c28fcd7f40;
        t.u[5] = 0x237ad0dab156d1ad330c16a3831d03bf9b2bd6c0816bee06f92e23399ccea098;
        t.u[6] = 0x1fb32f6ff10637ce81fc069e7a609683ceaf4915888564e88216858f73ccef03;
        t.u[7] = 0x35545cf0231b3e14729135bdd70a39d133dcd77ff179f2d2e48b96628f3c4be3;
        t.u[8] = 0x36d3cd433d9a8079abd0d7fb1292618550e40d54712ea6b36471fde41f229dd0;
        t.u[9] = 0x637286f9e5a3863e1f525265c8b007ee4d82feacab6286cd3672d6ae12b80aed;
        t.u[10] = 0x2065d668249a45845dbe3023a906922fa4b9a9c4b753a1eef08360852789d059;
        t.u[11] = 0xc0c4d7af3d74f82bf268ea03836e86577bd891ff7b103df23231e1ee2015522;
        t.u[12] = 0x1ca299b5d51b1815aaf719f3fd68373b29acf1a57cbd1f5ae28af60465f42986;
        t.sG = 0x34c622db3410928ed751ef5de1b415f9f769d49c5efb307aec68cfec8418b1d1;
        t.kappa = 0x35ec633b56d050cd6760136783feb17bfe7b8ae46e7836a4b4d19ec12955d6f0;
        t.beta = 0x2b42eb1204fcd5555daf106db8dee081179a071e518ae4525b4b1b75321c5296;
        t.evals[0] = 0x4e73c5a5513b49c610d0f36011ae0be5e4f1d39400ea5b2e2771ce7b8d767e99;
        t.evals[1] = 0x55bda28b0e7dd1bbea695b288ea0ac6890ef733e681b74904c04ea8958231e2;
        t.evals[2] = 0x1578ec938e5de03a3b3b8378cbe92dfe86f61aa3f5d8ec02eee3e25d7c6a9625;
        t.evals[3] = 0x12aec225c8f98e1da70f13a1fbad6b1515bcd749cd27e04bc0542f233e5c63af;
    }

    /// @dev Generated with sumkzg/libra.py (P1): masks, Â, Q̂ for ℓ = 24 at a random point, κ, β;
    ///      check_sum_identity accepts them.
    function _libraCase24() internal pure returns (LibraCase memory t) {
        t.u = new uint256[](24);
        t.u[0] = 0x4c3b93c8c1726f06b8b8f27000f72d3c4c22cab7468fb596ec9a360c5105122a;
        t.u[1] = 0x69baf7f80635afef10b99ac9f178d77ff24d04fda24c8407ce3fa028ea9d18b2;
        t.u[2] = 0x635fa7d1f4337bd1773afe02f4ef6142b72fac4a79a5fd621b757b203bdea8c3;
        t.u[3] = 0x10fc8d4c7e544d56d096bfd66e106c0ee9de047940449aa0ca30421862f2a21b;
        t.u[4] = 0x26d304c8bd0d8cfeee59b397cd751e08023a80a22ed51b127f1d490eed97ec76;
        t.u[5] = 0x6e3d30ae53eab0313c73d5f49b75036226bc9858c5d6d5e9b12e1de2d2a0169d;
        t.u[6] = 0x418570cf143a51809880e88bc841721ec8a948145ca2c13275f5c1a051cdf2f9;
        t.u[7] = 0x532452c6109257f76862bf793f4f8b9d28f1a81bc0bd1d8464457ea432830689;
        t.u[8] = 0x36995480faf20ac0292322d35364e64d8b6bfeae8d76d7a17b50079e08ab4ae4;
        t.u[9] = 0x1aaaeb5715866ffb9fe5e39943cfeadf1279688cfce205cd1aefca62e22b64a6;
        t.u[10] = 0x162b26ab726c2c95f8dca309b5b39023fd09e37c7f9c13216bca9b3f18af266c;
        t.u[11] = 0x1e124b75ac9261f1e429c87c9ecc7b5f75ff199d6ab6114f2207c6c03bf449fd;
        t.u[12] = 0x63cede091f04a6ffc272f5a7aa17c57cc61c96dbd8d4250d89df5e79bf7b6c6c;
        t.u[13] = 0x2084ec6b5f7b07b84485c04f911f52dc47868e4a4b354e934b3e90b7d7435571;
        t.u[14] = 0x1e24fede3ece9f2c2f8c6c083f5783ea707c5f3d32fe1f3642a55162bcf1fcb5;
        t.u[15] = 0x84b8023538ae1c130312932940a3537e8566431e258d2684806d26f27401fa0;
        t.u[16] = 0x53276ccb3b3bc81386bc2b9981e004fb3ef68756fe111ebc406c61326564d134;
        t.u[17] = 0x93327b1a327537097a5942fdaf451376c32dcda74068b219bd2640cef61d03;
        t.u[18] = 0x2fdb2daaea14843a72c39a28d72eb3a13b2a421ad1b0b70be200d218798a0d59;
        t.u[19] = 0x4cdcf6f33087de350ce66f731e84fb363b9edacb4b2e7245e07b59d80a5527a2;
        t.u[20] = 0x419f234f5f4aebeb133ad73dee1fdde031b4932c954c2fc1d3f2e52df9143ef5;
        t.u[21] = 0x5516b61cc71c588cc6664843428bf7739a60f91972f920262d819d38ddba8547;
        t.u[22] = 0x2cc2f51f9eb4e92eb5af4c8a989d181ca33066bd1b1466f6019f7781f2198825;
        t.u[23] = 0x684985b23414c2dce9f8f71fa6d21040bb7352c19973cf5c09c9d592414205c6;
        t.sG = 0x5b5f92d0359cb5761d0eb71b74d85a87e2638b1820f82b055730b7890b8f4c01;
        t.kappa = 0x4f7d61492f65ab4e5f2ee40dada65cc468b3e3aa53c69b0ad19f0be902e9c9fb;
        t.beta = 0x3de38ef98c4caa837ee14b90cb978be3080e31b03412882213f388704fec0f40;
        t.evals[0] = 0x2ffd9d1636dd4d3afcb913df8becfe618c7a5a5a46d22d17528405f361e6559a;
        t.evals[1] = 0x540c8553faddee85becd81f2db042fbb8883a5ef4c6df0cb2a8c22d1cb1b9e97;
        t.evals[2] = 0x6d341f13b0d75f37243cdc9ff5fa78ef87d99d23cbbbbb5ef0ea83d2c573e8d;
        t.evals[3] = 0x4bdc0ed1276d25e59e87128a3d2f259d966766f143719a6277373228dfa0c31b;
    }
}
