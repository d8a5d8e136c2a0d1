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
        assertEq(SumKzgTranscript.INFERENCE_DOMAIN, keccak256("SUMKZG-ML/v1/inference"));
        assertEq(SumKzgTranscript.REGISTRATION_DOMAIN, keccak256("SUMKZG-ML/v1/registration"));
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

    function test_layout_shapesAndLengths() public view {
        // 5×7, k = 12 (the vectors' shape): m' = 8, n' = 512, ℓ = 12, K_W = K_L = K_B = K_HW = 1.
        (bool ok, uint256 muI, uint256 muJ, uint256 inf, uint256 reg) = h.layout(5, 7, 12);
        assertTrue(ok);
        assertEq(muI, 3);
        assertEq(muJ, 9);
        assertEq(inf, 128 * 4 + 128 * 12 + 32 * 4 + 128 * 11 + 32 * 36 + 128 * 3);
        assertEq(reg, 128 * 5 + 128 * 12 + 32 * 5 + 128 * 11 + 32 * 36 + 128 * 3);
        // 256×256: cpc = 16 columns per chunk, g = 15 data columns, K_W = K_HW = ⌈257/15⌉ = 18,
        // n' = 2^⌈log₂ 288⌉ = 512, ℓ = 17, K_L = 1, K_B = 1.
        (ok, muI, muJ, inf, reg) = h.layout(256, 256, 16);
        assertTrue(ok);
        assertEq(muI + muJ, 17);
        assertEq(inf, 128 * (18 + 3) + 128 * 17 + 32 * 4 + 128 * 11 + 32 * 36 + 128 * 3);
        assertEq(reg, 128 * (18 + 1 + 1 + 18 + 1) + 128 * 17 + 32 * 5 + 128 * 11 + 32 * 36 + 128 * 3);
        // 2048×5: cpc = 2, g = 1 (every other column a blinding column), K_W = 6, n' = 16.
        (ok, muI, muJ, inf,) = h.layout(2048, 5, 16);
        assertTrue(ok);
        assertEq(muI, 11);
        assertEq(muJ, 4);
        assertEq(inf, 128 * (6 + 2 * 5 + 1) + 128 * 15 + 32 * 4 + 128 * 11 + 32 * 36 + 128 * 3);
        // m = 1: μ_i = 0, n' = D.
        (ok, muI, muJ,,) = h.layout(1, 1, 1);
        assertTrue(ok);
        assertEq(muI, 0);
        assertEq(muJ, 12);
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
}
