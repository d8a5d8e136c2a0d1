// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IProofVerifier, PartitionStatement} from "../../src/interfaces/IProofVerifier.sol";
import {LayerHeader} from "../../src/lib/Types.sol";
import {Bls12381} from "../../src/verifier/Bls12381.sol";
import {FieldMath} from "../../src/verifier/FieldMath.sol";
import {SumKzgStackVerifier} from "../../src/verifier/SumKzgStackVerifier.sol";
import {SumKzgVerifier} from "../../src/verifier/SumKzgVerifier.sol";
import {Test, console} from "../utils/Test.sol";

/// @notice Cheatcodes these tests need beyond utils/Vm.sol.
interface VmStackExtra {
    function chainId(uint256 newChainId) external;
}

/// @title SumKzgStackVerifier against a Python stack proof (tests/vectors/sumkzg_stack_proof.json)
/// @notice The vector binds a chain id, the base verifier's address (the registrations of P and V)
///         and the stack verifier's address (the stack proof): both contracts' code is placed at
///         those addresses (vm.etch), P and V are registered with the base, the stack is recorded,
///         and the proof must verify; every mutation of the proof or the statement must be refused
///         (false, never a revert other than NotEnoughGas).
contract SumKzgStackVerifierTest is Test {
    uint256 internal constant R = FieldMath.R;
    uint256 internal constant VERIFY_GAS = 3_000_000;
    VmStackExtra internal constant VMX = VmStackExtra(address(uint160(uint256(keccak256("hevm cheat code")))));

    event StackRecorded(bytes32 indexed weightCommitment, bytes32 hP, bytes32 hV);

    string internal json;
    SumKzgVerifier internal base;
    SumKzgStackVerifier internal verifier;

    uint32 internal m1;
    uint32 internal n1;
    uint32 internal m2;
    bytes32 internal hP;
    bytes32 internal hV;
    bytes internal headers;
    PartitionStatement internal st;
    bytes internal proof;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/sumkzg_stack_proof.json"));
        VMX.chainId(vm.parseJsonUint(json, ".chain_id"));
        address baseAt = vm.parseJsonAddress(json, ".base");
        vm.etch(baseAt, address(new SumKzgVerifier()).code);
        base = SumKzgVerifier(baseAt);
        address at = vm.parseJsonAddress(json, ".stack");
        vm.etch(at, address(new SumKzgStackVerifier(base)).code);
        verifier = SumKzgStackVerifier(at);
        // forge-lint: disable-start(unsafe-typecast)
        m1 = uint32(vm.parseJsonUint(json, ".m1"));
        n1 = uint32(vm.parseJsonUint(json, ".n1"));
        m2 = uint32(vm.parseJsonUint(json, ".m2"));
        LayerHeader[] memory hs = new LayerHeader[](2);
        hs[0] = LayerHeader({
            inDim: n1,
            outDim: m1,
            multiplier: uint32(vm.parseJsonUint(json, ".mult1")),
            shift: uint8(vm.parseJsonUint(json, ".k1")),
            activation: uint8(vm.parseJsonUint(json, ".act1"))
        });
        hs[1] = LayerHeader({
            inDim: m1,
            outDim: m2,
            multiplier: uint32(vm.parseJsonUint(json, ".mult2")),
            shift: uint8(vm.parseJsonUint(json, ".k2")),
            activation: uint8(vm.parseJsonUint(json, ".act2"))
        });
        // forge-lint: disable-end(unsafe-typecast)
        headers = abi.encode(hs);
        hP = vm.parseJsonBytes32(json, ".h_p");
        hV = vm.parseJsonBytes32(json, ".h_v");
        st = PartitionStatement({
            modelId: vm.parseJsonBytes32(json, ".model_id"),
            partitionIndex: vm.parseJsonUint(json, ".partition_index"),
            weightCommitment: keccak256(abi.encodePacked(hP, hV)),
            setupId: verifier.SETUP_ID(),
            layerHeaders: headers,
            input: vm.parseJsonBytes(json, ".x"),
            output: vm.parseJsonBytes(json, ".y"),
            jobId: bytes32(vm.parseJsonUint(json, ".job_id"))
        });
        proof = vm.parseJsonBytes(json, ".proof");
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    function _registerBoth() internal {
        base.registerCommitment(m1 + 4, n1, vm.parseJsonBytes(json, ".reg_p"));
        base.registerCommitment(m1 + 4, m2, vm.parseJsonBytes(json, ".reg_v"));
    }

    function _record() internal {
        _registerBoth();
        verifier.recordStack(hP, hV, headers);
    }

    function _verify(PartitionStatement memory s, bytes memory p) internal view returns (bool) {
        return verifier.verifyPartitionProof{gas: VERIFY_GAS}(s, p);
    }

    function _copy(PartitionStatement memory s) internal pure returns (PartitionStatement memory t) {
        t = abi.decode(abi.encode(s), (PartitionStatement));
    }

    function _headers() internal view returns (LayerHeader[] memory) {
        return abi.decode(headers, (LayerHeader[]));
    }

    function _word(bytes memory b, uint256 offset) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(add(b, 0x20), offset))
        }
    }

    function _setWord(bytes memory b, uint256 offset, uint256 v) internal pure returns (bytes memory out) {
        out = bytes.concat(b);
        assembly ("memory-safe") {
            mstore(add(add(out, 0x20), offset), v)
        }
    }

    /// @dev Byte offsets of the proof's sections (S7).
    struct Sections {
        uint256 cLimb1;
        uint256 cAct;
        uint256 cR1;
        uint256 cLib;
        uint256 gamma;
        uint256 round2;
        uint256 sumcheck;
        uint256 evals;
        uint256 cA;
        uint256 folds;
        uint256 foldEvals;
        uint256 witnesses;
        uint256 end;
    }

    function _sections() internal view returns (Sections memory s) {
        uint256 kwp = vm.parseJsonUint(json, ".layout.k_wp");
        uint256 kwv = vm.parseJsonUint(json, ".layout.k_wv");
        uint256 kl1 = vm.parseJsonUint(json, ".layout.k_l1");
        uint256 kl2 = vm.parseJsonUint(json, ".layout.k_l2");
        uint256 ell = vm.parseJsonUint(json, ".layout.ell");
        s.cLimb1 = 128 * (kwp + kwv);
        s.cAct = s.cLimb1 + 128 * (kl1 + 1);
        s.cR1 = s.cAct + 128 * (kl2 + 2);
        s.cLib = s.cR1 + 256;
        s.gamma = s.cLib + 256;
        s.round2 = s.gamma + 32;
        s.sumcheck = s.round2 + 128 * (kl1 + kl2);
        s.evals = s.sumcheck + 128 * ell;
        s.cA = s.evals + 32 * 11;
        s.folds = s.cA + 256;
        s.foldEvals = s.folds + 128 * 11;
        s.witnesses = s.foldEvals + 32 * 36 + 128;
        s.end = s.witnesses + 512;
        assertEq(s.end, proof.length, "layout");
    }

    /// @dev Whether the 32-byte word at `offset` lies in a point (else in a scalar).
    function _isPoint(Sections memory s, uint256 offset) internal pure returns (bool) {
        if (offset >= s.gamma && offset < s.round2) return false;
        return offset < s.sumcheck || (offset >= s.cA && offset < s.foldEvals) || offset >= s.witnesses;
    }

    // ---------------------------------------------------------------------------------------------
    // recordStack / isWellFormed
    // ---------------------------------------------------------------------------------------------

    function test_recordStack_recordsAndEmits() public {
        _registerBoth();
        bytes32 hS = keccak256(abi.encodePacked(hP, hV));
        assertFalse(verifier.isWellFormed(hS, verifier.SETUP_ID(), headers));
        vm.expectEmit(true, false, false, true, address(verifier));
        emit StackRecorded(hS, hP, hV);
        assertEq(verifier.recordStack(hP, hV, headers), hS);
        assertTrue(verifier.isWellFormed(hS, verifier.SETUP_ID(), headers));
        // Recording again succeeds.
        assertEq(verifier.recordStack(hP, hV, headers), hS);
        assertEq(verifier.stackCommitment(hP, hV), hS);
    }

    function test_recordStack_requiresBothRegistrations() public {
        vm.expectRevert(abi.encodeWithSelector(SumKzgStackVerifier.StackNotRegistered.selector, hP, hV));
        verifier.recordStack(hP, hV, headers);
        base.registerCommitment(m1 + 4, n1, vm.parseJsonBytes(json, ".reg_p"));
        vm.expectRevert(abi.encodeWithSelector(SumKzgStackVerifier.StackNotRegistered.selector, hP, hV));
        verifier.recordStack(hP, hV, headers);
        base.registerCommitment(m1 + 4, m2, vm.parseJsonBytes(json, ".reg_v"));
        // Swapped roles are not registered for these shapes (unless the shapes coincide).
        if (n1 != m2) {
            vm.expectRevert(abi.encodeWithSelector(SumKzgStackVerifier.StackNotRegistered.selector, hV, hP));
            verifier.recordStack(hV, hP, headers);
        }
        verifier.recordStack(hP, hV, headers);
    }

    function test_recordStack_unsupportedHeaders() public {
        _registerBoth();
        LayerHeader[] memory hs = _headers();
        // One layer.
        LayerHeader[] memory one = new LayerHeader[](1);
        one[0] = hs[0];
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(one));
        // Three layers.
        LayerHeader[] memory three = new LayerHeader[](3);
        (three[0], three[1], three[2]) = (hs[0], hs[1], hs[1]);
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(three));
        // Layer 2's input is not layer 1's output.
        LayerHeader[] memory bad = _headers();
        bad[1].inDim = bad[0].outDim + 1;
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(bad));
        // Invalid fields.
        bad = _headers();
        bad[0].shift = 0;
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(bad));
        bad = _headers();
        bad[1].activation = 2;
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(bad));
        bad = _headers();
        bad[1].multiplier = uint32(1 << 31);
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(bad));
        // m1 + 4 > 2048.
        bad = _headers();
        (bad[0].outDim, bad[1].inDim) = (2045, 2045);
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, abi.encode(bad));
        // Truncated encoding.
        bytes memory cut = bytes.concat(headers);
        assembly ("memory-safe") {
            mstore(cut, sub(mload(cut), 1))
        }
        vm.expectRevert(SumKzgStackVerifier.UnsupportedStack.selector);
        verifier.recordStack(hP, hV, cut);
    }

    function test_isWellFormed() public {
        _record();
        bytes32 hS = keccak256(abi.encodePacked(hP, hV));
        bytes32 setupId = verifier.SETUP_ID();
        assertTrue(verifier.isWellFormed(hS, setupId, headers));
        assertFalse(verifier.isWellFormed(hS, bytes32(uint256(setupId) ^ 1), headers));
        assertFalse(verifier.isWellFormed(hP, setupId, headers));
        assertFalse(verifier.isWellFormed(keccak256(abi.encodePacked(hV, hP)), setupId, headers));
        // Requant parameters are not part of the record: other valid ones are still well formed.
        LayerHeader[] memory hs = _headers();
        hs[1].multiplier ^= 1;
        assertTrue(verifier.isWellFormed(hS, setupId, abi.encode(hs)));
        // Another shape is not.
        hs = _headers();
        hs[0].inDim = hs[0].inDim + 1;
        assertFalse(verifier.isWellFormed(hS, setupId, abi.encode(hs)));
        // Malformed headers: false, no revert.
        assertFalse(verifier.isWellFormed(hS, setupId, ""));
        assertFalse(verifier.isWellFormed(hS, setupId, hex"00"));
        LayerHeader[] memory one = new LayerHeader[](1);
        one[0] = hs[0];
        assertFalse(verifier.isWellFormed(hS, setupId, abi.encode(one)));
    }

    // ---------------------------------------------------------------------------------------------
    // The vector
    // ---------------------------------------------------------------------------------------------

    function test_vectorAccepted() public {
        _record();
        assertTrue(verifier.verifyPartitionProof(st, proof));
    }

    function test_gas_verifyPartitionProof_vector() public {
        _record();
        uint256 before = gasleft();
        bool ok = verifier.verifyPartitionProof(st, proof);
        uint256 used = before - gasleft();
        assertTrue(ok);
        console.log("verifyPartitionProof gas (execution):", used);
        console.log("proof bytes:", proof.length);
    }

    function test_notRecorded_false() public {
        _registerBoth();
        assertFalse(_verify(st, proof));
    }

    function test_tooLittleGasReverts() public {
        _record();
        // 200k less than an accepted run needs: the precompiles (the L MSM, the 4-point MSM, the
        // pairing) cost more than that together, so a precompile call is refused with NotEnoughGas.
        bytes memory call = abi.encodeCall(IProofVerifier.verifyPartitionProof, (st, proof));
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = address(verifier).staticcall(call);
        uint256 used = before - gasleft();
        assertTrue(ok && abi.decode(ret, (bool)));
        (ok, ret) = address(verifier).staticcall{gas: used - 200_000}(call);
        assertFalse(ok);
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEq(bytes4(ret), Bls12381.NotEnoughGas.selector); // the selector: the first 4 bytes
    }

    // ---------------------------------------------------------------------------------------------
    // Mutations of the proof
    // ---------------------------------------------------------------------------------------------

    function test_mutation_lengths() public {
        _record();
        assertFalse(_verify(st, ""));
        assertFalse(_verify(st, bytes.concat(proof, hex"00")));
        bytes memory shorter = bytes.concat(proof);
        assembly ("memory-safe") {
            mstore(shorter, sub(mload(shorter), 32))
        }
        assertFalse(_verify(st, shorter));
        assertFalse(_verify(st, bytes.concat(proof, new bytes(128))));
    }

    /// @dev Every scalar + 1 (mod r), every point's y-coordinate low word flipped, at a stride.
    function test_mutation_words() public {
        _record();
        Sections memory s = _sections();
        uint256 count;
        for (uint256 o = 0; o < proof.length; o += 32) {
            bool point = _isPoint(s, o);
            // Points: one word per point (the low word of y); scalars: every fourth word.
            if (point && o % 128 != 96) continue;
            if (!point && (o / 32) % 4 != 0 && o != s.gamma && o < s.evals) continue;
            uint256 v = _word(proof, o);
            uint256 w = point ? v ^ 1 : addmod(v, 1, R);
            assertFalse(_verify(st, _setWord(proof, o, w)), vm.toString(o));
            ++count;
        }
        assertGt(count, 50);
    }

    /// @dev Any word replaced by any value: false, never a revert (the call would bubble it up).
    function testFuzz_mutation_anyWordAnyValue(uint256 index, uint256 value) public {
        _record();
        uint256 words = proof.length / 32;
        uint256 o = 32 * (index % words);
        vm.assume(_word(proof, o) != value);
        assertFalse(_verify(st, _setWord(proof, o, value)));
    }

    function test_mutation_nonCanonicalScalars() public {
        _record();
        Sections memory s = _sections();
        uint256[4] memory offsets = [s.gamma, s.sumcheck, s.evals + 32 * 10, s.foldEvals];
        for (uint256 k; k < 4; ++k) {
            uint256 o = offsets[k];
            assertFalse(_verify(st, _setWord(proof, o, _word(proof, o) + R)));
        }
    }

    function test_degenerate_masksAtInfinity() public {
        _record();
        Sections memory s = _sections();
        uint256[7] memory offsets = [s.cAct, s.cR1, s.cR1 + 128, s.cLib, s.cLib + 128, s.cA, s.cA + 128];
        for (uint256 k; k < 7; ++k) {
            bytes memory p = bytes.concat(proof);
            for (uint256 w; w < 4; ++w) {
                p = _setWord(p, offsets[k] + 32 * w, 0);
            }
            assertFalse(_verify(st, p), vm.toString(k));
        }
    }

    function test_mutation_paddingAndCoordinates() public {
        _record();
        Sections memory s = _sections();
        // Non-zero padding in C_Limb1, x ≥ p in C_Act.
        bytes memory p = bytes.concat(proof);
        p[s.cLimb1] = 0x01;
        assertFalse(_verify(st, p));
        uint256 pHi = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
        assertFalse(_verify(st, _setWord(proof, s.cAct, _word(proof, s.cAct) + pHi)));
    }

    // ---------------------------------------------------------------------------------------------
    // Tampered statements
    // ---------------------------------------------------------------------------------------------

    function test_tamper_statement() public {
        _record();
        PartitionStatement memory t;
        t = _copy(st);
        t.input[0] = bytes1(uint8(t.input[0]) ^ 1);
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.output[t.output.length - 1] = bytes1(uint8(t.output[t.output.length - 1]) ^ 1);
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.jobId = bytes32(uint256(t.jobId) + 1);
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.modelId = bytes32(uint256(t.modelId) ^ 1);
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.partitionIndex += 1;
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.weightCommitment = hP;
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.setupId = bytes32(0);
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.input = bytes.concat(t.input, hex"00");
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.output = bytes.concat(t.output, hex"00");
        assertFalse(_verify(t, proof));
    }

    function test_tamper_headers() public {
        _record();
        LayerHeader[] memory hs;
        PartitionStatement memory t;
        for (uint256 k; k < 6; ++k) {
            hs = _headers();
            if (k == 0) hs[0].multiplier += 1;
            if (k == 1) hs[0].shift += 1;
            if (k == 2) hs[0].activation ^= 1;
            if (k == 3) hs[1].multiplier += 1;
            if (k == 4) hs[1].shift += 1;
            if (k == 5) hs[1].activation ^= 1;
            t = _copy(st);
            t.layerHeaders = abi.encode(hs);
            assertFalse(_verify(t, proof), vm.toString(k));
        }
        // A single layer.
        LayerHeader[] memory one = new LayerHeader[](1);
        one[0] = _headers()[0];
        t = _copy(st);
        t.layerHeaders = abi.encode(one);
        assertFalse(_verify(t, proof));
    }

    /// @dev Any other pair of headers (or raw bytes): false from both views, never a revert.
    function testFuzz_tamper_anyHeaders(uint32 inDim, uint32 outDim, uint32 mult, uint8 shift, uint8 act, bool second)
        public
    {
        _record();
        LayerHeader[] memory hs = _headers();
        uint256 k = second ? 1 : 0;
        LayerHeader memory h = LayerHeader(inDim, outDim, mult, shift, act);
        vm.assume(keccak256(abi.encode(h)) != keccak256(abi.encode(hs[k])));
        hs[k] = h;
        PartitionStatement memory t = _copy(st);
        t.layerHeaders = abi.encode(hs);
        assertFalse(_verify(t, proof));
        t.layerHeaders = abi.encodePacked(inDim, outDim, mult, shift, act);
        assertFalse(_verify(t, proof));
        assertFalse(verifier.isWellFormed(st.weightCommitment, st.setupId, t.layerHeaders));
    }

    function test_tamper_chainIdAndAddress() public {
        _record();
        VMX.chainId(vm.parseJsonUint(json, ".chain_id") + 1);
        assertFalse(_verify(st, proof));
        VMX.chainId(vm.parseJsonUint(json, ".chain_id"));
        // The same code at another address (with the stack recorded there too).
        SumKzgStackVerifier other = new SumKzgStackVerifier(base);
        other.recordStack(hP, hV, headers);
        assertFalse(other.verifyPartitionProof{gas: VERIFY_GAS}(st, proof));
    }
}
