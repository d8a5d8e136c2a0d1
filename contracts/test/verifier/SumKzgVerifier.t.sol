// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {IProofVerifier, PartitionStatement} from "../../src/interfaces/IProofVerifier.sol";
import {LayerHeader, PartitionSpec} from "../../src/lib/Types.sol";
import {Bls12381} from "../../src/verifier/Bls12381.sol";
import {FieldMath} from "../../src/verifier/FieldMath.sol";
import {SumKzgVerifier} from "../../src/verifier/SumKzgVerifier.sol";
import {Test, console} from "../utils/Test.sol";
import {SumKzgVerifierHarness} from "./SumKzgHarness.sol";

/// @notice Cheatcodes these tests need beyond utils/Vm.sol.
interface VmExtra {
    function chainId(uint256 newChainId) external;
    function store(address target, bytes32 slot, bytes32 value) external;
    function parseJsonBool(string calldata json, string calldata key) external pure returns (bool);
}

/// @title SumKzgVerifier against the Python reference's proofs (tests/vectors/sumkzg_proofs.json)
/// @notice The vectors' verifier address and chain id are the Python statement's: the verifier's code is
///         placed at that address (vm.etch) and the chain id set, so the contract's transcript binds
///         the same values. Every mutation of a valid proof or statement must be refused.
contract SumKzgVerifierTest is Test {
    uint256 internal constant R = FieldMath.R;
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 internal constant VERIFY_GAS = 2_000_000;
    VmExtra internal constant VMX = VmExtra(address(uint160(uint256(keccak256("hevm cheat code")))));

    event CommitmentRegistered(bytes32 indexed weightCommitment, uint32 m, uint32 n, address indexed registrant);

    string internal json;
    SumKzgVerifier internal verifier;
    uint256 internal chainId;

    // The registration vector.
    uint32 internal regM;
    uint32 internal regN;
    bytes32 internal hW;
    bytes internal regProof;

    // The inference vector.
    PartitionStatement internal st;
    bytes internal proof;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/sumkzg_proofs.json"));
        chainId = vm.parseJsonUint(json, ".registration.statement.chain_id");
        VMX.chainId(chainId);
        address at = vm.parseJsonAddress(json, ".registration.statement.verifier");
        assertEq(at, vm.parseJsonAddress(json, ".inference.statement.verifier"));
        vm.etch(at, address(new SumKzgVerifier()).code);
        verifier = SumKzgVerifier(at);

        // forge-lint: disable-next-line(unsafe-typecast)
        regM = uint32(vm.parseJsonUint(json, ".registration.statement.m"));
        // forge-lint: disable-next-line(unsafe-typecast)
        regN = uint32(vm.parseJsonUint(json, ".registration.statement.n"));
        hW = vm.parseJsonBytes32(json, ".registration.statement.h_w");
        regProof = vm.parseJsonBytes(json, ".registration.proof");
        st = _statement(".inference.statement");
        proof = vm.parseJsonBytes(json, ".inference.proof");
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    function _statement(string memory base) internal view returns (PartitionStatement memory s) {
        LayerHeader[] memory hs = new LayerHeader[](1);
        // forge-lint: disable-start(unsafe-typecast)
        hs[0] = LayerHeader({
            inDim: uint32(vm.parseJsonUint(json, string.concat(base, ".n"))),
            outDim: uint32(vm.parseJsonUint(json, string.concat(base, ".m"))),
            multiplier: uint32(vm.parseJsonUint(json, string.concat(base, ".multiplier"))),
            shift: uint8(vm.parseJsonUint(json, string.concat(base, ".shift"))),
            activation: uint8(vm.parseJsonUint(json, string.concat(base, ".activation")))
        });
        // forge-lint: disable-end(unsafe-typecast)
        s = PartitionStatement({
            modelId: vm.parseJsonBytes32(json, string.concat(base, ".model_id")),
            partitionIndex: vm.parseJsonUint(json, string.concat(base, ".partition_index")),
            weightCommitment: vm.parseJsonBytes32(json, string.concat(base, ".h_w")),
            setupId: verifier.SETUP_ID(),
            layerHeaders: abi.encode(hs),
            input: vm.parseJsonBytes(json, string.concat(base, ".x")),
            output: vm.parseJsonBytes(json, string.concat(base, ".y")),
            jobId: bytes32(vm.parseJsonUint(json, string.concat(base, ".job_id")))
        });
    }

    function _header(PartitionStatement memory s) internal pure returns (LayerHeader memory) {
        return abi.decode(s.layerHeaders, (LayerHeader[]))[0];
    }

    function _withHeader(PartitionStatement memory s, LayerHeader memory h) internal pure {
        LayerHeader[] memory hs = new LayerHeader[](1);
        hs[0] = h;
        s.layerHeaders = abi.encode(hs);
    }

    function _register() internal {
        verifier.registerCommitment(regM, regN, regProof);
    }

    function _copy(PartitionStatement memory s) internal pure returns (PartitionStatement memory t) {
        t = abi.decode(abi.encode(s), (PartitionStatement));
    }

    /// @dev With a bounded gas budget: a precompile that fails on an invalid point burns what it was
    ///      given (the verifier keeps a reserve and returns false), so an unbounded call would drain
    ///      the test's gas over many mutations.
    function _verify(PartitionStatement memory s, bytes memory p) internal view returns (bool) {
        return verifier.verifyPartitionProof{gas: VERIFY_GAS}(s, p);
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

    /// @dev Byte offsets of the inference proof's sections (docs/proof-system-zk.md Z9): C_W ‖ C_Limb ‖
    ///      C_Mu ‖ C_R ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H ‖ sumcheck ‖ evals[6] ‖ C_A ‖ C_Q ‖ folds ‖ foldEvals ‖
    ///      libraEvals[4] ‖ W[4].
    struct Sections {
        uint256 cR;
        uint256 cLib;
        uint256 cMk;
        uint256 gamma;
        uint256 sumcheck;
        uint256 evals;
        uint256 cA;
        uint256 cQ;
        uint256 folds;
        uint256 foldEvals;
        uint256 libraEvals;
        uint256 witnesses;
        uint256 end;
    }

    /// @dev Bytes after the sumcheck for P opened polynomials: evals[P + 2] ‖ C_A ‖ C_Q ‖ folds[11] ‖
    ///      foldEvals[12][3] ‖ libraEvals[4] ‖ W[4].
    function _tail(uint256 npoly) internal pure returns (uint256) {
        return 32 * (npoly + 2) + 256 + 128 * 11 + 32 * 36 + 128 + 512;
    }

    function _sections() internal view returns (Sections memory s) {
        uint256 kW = vm.parseJsonUint(json, ".inference.layout.k_w");
        uint256 kL = vm.parseJsonUint(json, ".inference.layout.k_l");
        uint256 ell = vm.parseJsonUint(json, ".inference.layout.ell");
        s.cR = 128 * (kW + kL + 1);
        s.cLib = s.cR + 128;
        s.cMk = s.cLib + 128;
        s.gamma = s.cMk + 128;
        s.sumcheck = s.gamma + 32 + 128 * kL;
        s.evals = s.sumcheck + 128 * ell;
        s.cA = s.evals + 32 * 6;
        s.cQ = s.cA + 128;
        s.folds = s.cQ + 128;
        s.foldEvals = s.folds + 128 * 11;
        s.libraEvals = s.foldEvals + 32 * 36;
        s.witnesses = s.libraEvals + 128;
        s.end = s.witnesses + 4 * 128;
        assertEq(s.end, proof.length, "layout");
        assertEq(s.end - s.sumcheck, 128 * ell + _tail(4), "tail");
    }

    /// @dev Whether the 32-byte word at `offset` lies in a point (else it is a scalar).
    function _isPoint(Sections memory s, uint256 offset) internal pure returns (bool) {
        if (offset >= s.gamma && offset < s.gamma + 32) return false;
        return offset < s.sumcheck || (offset >= s.cA && offset < s.foldEvals) || offset >= s.witnesses;
    }

    /// @dev The sumcheck's offset in the registration vector (ℓ from the inference vector: one shape).
    function _registrationSumcheck() internal view returns (uint256) {
        uint256 ell = vm.parseJsonUint(json, ".inference.layout.ell");
        return regProof.length - _tail(5) - 128 * ell;
    }

    // ---------------------------------------------------------------------------------------------
    // Constants
    // ---------------------------------------------------------------------------------------------

    function test_constants_setupIdAndGenerators() public view {
        assertEq(verifier.SETUP_ID(), vm.parseJsonBytes32(json, ".setup_id"));
        (bytes memory g0, bytes memory h0, bytes memory h1) = verifier.setupPoints();
        // The standard generators (EIP-2537's test vectors, x then y, each 16 zero bytes + 48 bytes).
        assertEq(
            g0,
            hex"0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb0000000000000000000000000000000008b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1"
        );
        assertEq(
            h0,
            hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb80000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be"
        );
        // H1 is a valid G2 point other than H0 (the Python test compares all three with the file).
        assertEq(h1.length, 256);
        assertTrue(keccak256(h1) != keccak256(h0));
        // The G2 encoding order (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1) and H1's validity, through the precompile:
        // e(G0, H1)·e(−G0, H1) = 1 and e(G0, H0)·e(G0, H1) ≠ 1.
        bytes memory negG0 = _negate(g0);
        assertTrue(_pairing(bytes.concat(g0, h1, negG0, h1)), "e(G0,H1)e(-G0,H1)");
        assertTrue(_pairing(bytes.concat(g0, h0, negG0, h0)), "e(G0,H0)e(-G0,H0)");
        assertFalse(_pairing(bytes.concat(g0, h0, g0, h1)), "e(G0,H0)e(G0,H1)");
    }

    function _negate(bytes memory pt) internal pure returns (bytes memory out) {
        // y ↦ p − y over the 64-byte big-endian y (its first 16 bytes zero).
        uint256 pLo = P_LO;
        uint256 yHi = _word(pt, 64);
        uint256 yLo = _word(pt, 96);
        uint256 borrow = yLo > pLo ? 1 : 0;
        unchecked {
            out = _setWord(_setWord(pt, 96, pLo - yLo), 64, P_HI - yHi - borrow);
        }
    }

    function _pairing(bytes memory input) internal view returns (bool) {
        (bool ok, bytes memory ret) = address(0x0f).staticcall(input);
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    // ---------------------------------------------------------------------------------------------
    // Registration
    // ---------------------------------------------------------------------------------------------

    function test_registration_vectorAccepted_recordsAndEmits() public {
        assertTrue(VMX.parseJsonBool(json, ".registration.verdict"));
        bytes32 key = verifier.commitmentKey(hW, regM, regN);
        assertEq(key, keccak256(abi.encode(hW, uint256(regM), uint256(regN))));
        assertFalse(verifier.wellFormed(key));
        vm.expectEmit(true, true, false, true, address(verifier));
        emit CommitmentRegistered(hW, regM, regN, address(this));
        bytes32 got = verifier.registerCommitment(regM, regN, regProof);
        assertEq(got, hW);
        assertTrue(verifier.wellFormed(key));
        assertFalse(verifier.wellFormed(verifier.commitmentKey(hW, regM, regN + 1)));
    }

    function test_registration_transcriptMatchesPython() public {
        SumKzgVerifierHarness harness = new SumKzgVerifierHarness();
        vm.etch(address(verifier), address(harness).code);
        (bool ok, bytes memory sb, uint256[] memory ch) =
            SumKzgVerifierHarness(address(verifier)).registrationTranscript(regM, regN, regProof);
        assertEq(sb, vm.parseJsonBytes(json, ".registration.statement_bytes"), "statement bytes");
        uint256[] memory want = vm.parseJsonUintArray(json, ".registration.challenges");
        assertEq(ch.length, want.length, "challenge count");
        for (uint256 i; i < want.length; ++i) {
            assertEq(ch[i], want[i], string.concat("registration challenge #", vm.toString(i)));
        }
        assertTrue(ok);
    }

    function test_registration_revertsWithTheRightError() public {
        // Wrong shape for the proof's length.
        vm.expectRevert(
            abi.encodeWithSelector(SumKzgVerifier.WrongProofLength.selector, regProof.length, regProof.length - 1)
        );
        verifier.registerCommitment(regM, regN, _truncate(regProof, 1));
        bytes memory longer = bytes.concat(regProof, hex"00");
        vm.expectRevert(
            abi.encodeWithSelector(SumKzgVerifier.WrongProofLength.selector, regProof.length, longer.length)
        );
        verifier.registerCommitment(regM, regN, longer);
        // Unsupported shapes.
        vm.expectRevert(abi.encodeWithSelector(SumKzgVerifier.UnsupportedShape.selector, 0, regN));
        verifier.registerCommitment(0, regN, regProof);
        vm.expectRevert(abi.encodeWithSelector(SumKzgVerifier.UnsupportedShape.selector, regM, 65_535));
        verifier.registerCommitment(regM, 65_535, regProof);
        vm.expectRevert(abi.encodeWithSelector(SumKzgVerifier.UnsupportedShape.selector, 4096, 4095));
        verifier.registerCommitment(4096, 4095, regProof);
        // Same length, other statement: n − 1 (same K's and ℓ here), another chain.
        vm.expectRevert(SumKzgVerifier.InvalidRegistrationProof.selector);
        verifier.registerCommitment(regM, regN - 1, regProof);
        VMX.chainId(chainId + 1);
        vm.expectRevert(SumKzgVerifier.InvalidRegistrationProof.selector);
        verifier.registerCommitment(regM, regN, regProof);
        VMX.chainId(chainId);
        // A tampered scalar (first sumcheck value) and a tampered C_W chunk (another H_W, unproven).
        uint256 sc = _registrationSumcheck();
        vm.expectRevert(SumKzgVerifier.InvalidRegistrationProof.selector);
        verifier.registerCommitment(regM, regN, _setWord(regProof, sc, addmod(_word(regProof, sc), 1, R)));
        vm.expectRevert(SumKzgVerifier.InvalidRegistrationProof.selector);
        verifier.registerCommitment(regM, regN, _swapPoints(regProof, 0, 128));
        assertFalse(verifier.wellFormed(verifier.commitmentKey(hW, regM, regN)));
    }

    function test_registration_rejectionVectors() public {
        uint256 n = 0;
        while (vm.keyExistsJson(json, string.concat(".rejections[", vm.toString(n), "]"))) ++n;
        assertGe(n, 6);
        _register();
        for (uint256 i; i < n; ++i) {
            string memory base = string.concat(".rejections[", vm.toString(i), "]");
            assertFalse(VMX.parseJsonBool(json, string.concat(base, ".verdict")));
            string memory what = vm.parseJsonString(json, string.concat(base, ".what"));
            bytes memory p = vm.parseJsonBytes(json, string.concat(base, ".proof"));
            uint256 cid = vm.parseJsonUint(json, string.concat(base, ".statement.chain_id"));
            VMX.chainId(cid);
            if (keccak256(bytes(vm.parseJsonString(json, string.concat(base, ".kind")))) == keccak256("registration")) {
                // forge-lint: disable-start(unsafe-typecast)
                uint32 m = uint32(vm.parseJsonUint(json, string.concat(base, ".statement.m")));
                uint32 nn = uint32(vm.parseJsonUint(json, string.concat(base, ".statement.n")));
                // forge-lint: disable-end(unsafe-typecast)
                try verifier.registerCommitment(m, nn, p) returns (bytes32) {
                    revert(string.concat("registration accepted: ", what));
                } catch (bytes memory err) {
                    // forge-lint: disable-next-line(unsafe-typecast)
                    bytes4 sel = bytes4(err); // the selector (an error has at least 4 bytes)
                    assertTrue(
                        sel == SumKzgVerifier.InvalidRegistrationProof.selector
                            || sel == SumKzgVerifier.WrongProofLength.selector,
                        what
                    );
                }
            } else {
                PartitionStatement memory s = _statement(string.concat(base, ".statement"));
                assertFalse(_verify(s, p), what);
            }
            VMX.chainId(chainId);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // isWellFormed and ModelRegistry
    // ---------------------------------------------------------------------------------------------

    function test_isWellFormed() public {
        bytes32 setup = verifier.SETUP_ID();
        assertFalse(verifier.isWellFormed(hW, setup, st.layerHeaders));
        _register();
        assertTrue(verifier.isWellFormed(hW, setup, st.layerHeaders));
        assertFalse(verifier.isWellFormed(hW, keccak256("other setup"), st.layerHeaders));
        assertFalse(verifier.isWellFormed(keccak256("other"), setup, st.layerHeaders));
        LayerHeader memory h = _header(st);
        // Another shape, two layers, no layer, a non-canonical encoding: false.
        LayerHeader[] memory hs = new LayerHeader[](1);
        hs[0] = h;
        hs[0].inDim += 1;
        assertFalse(verifier.isWellFormed(hW, setup, abi.encode(hs)));
        hs = new LayerHeader[](2);
        hs[0] = h;
        hs[1] = h;
        assertFalse(verifier.isWellFormed(hW, setup, abi.encode(hs)));
        assertFalse(verifier.isWellFormed(hW, setup, abi.encode(new LayerHeader[](0))));
        assertFalse(verifier.isWellFormed(hW, setup, bytes.concat(st.layerHeaders, hex"00")));
        assertFalse(verifier.isWellFormed(hW, setup, _setWord(st.layerHeaders, 0, 0x40)));
        assertFalse(verifier.isWellFormed(hW, setup, ""));
    }

    function test_modelRegistry_requiresWellFormedCommitment() public {
        ModelRegistry registry = new ModelRegistry();
        LayerHeader[] memory hs = new LayerHeader[](1);
        hs[0] = _header(st);
        PartitionSpec[] memory ps = new PartitionSpec[](1);
        ps[0] = PartitionSpec(1, 1, true, hW, verifier.SETUP_ID());
        address[] memory vs = new address[](1);
        vs[0] = address(verifier);
        bytes32[] memory roots = new bytes32[](1);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.CommitmentNotWellFormed.selector, 0));
        registry.registerModel(hs, roots, ps, vs);
        _register();
        ps[0].setupId = keccak256("other setup");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.CommitmentNotWellFormed.selector, 0));
        registry.registerModel(hs, roots, ps, vs);
        ps[0].setupId = verifier.SETUP_ID();
        bytes32 id = registry.registerModel(hs, roots, ps, vs);
        assertTrue(registry.isRegistered(id));
    }

    // ---------------------------------------------------------------------------------------------
    // Inference: the vector and its transcript
    // ---------------------------------------------------------------------------------------------

    function test_inference_vectorAccepted() public {
        assertTrue(VMX.parseJsonBool(json, ".inference.verdict"));
        assertFalse(_verify(st, proof), "accepted before the commitment is registered");
        _register();
        assertTrue(_verify(st, proof));
        // The statement and proof bytes this test built are the ones in the file.
        assertEq(proof.length, vm.parseJsonUint(json, ".inference.proof_length"));
    }

    function test_inference_transcriptMatchesPython() public {
        _register();
        SumKzgVerifierHarness harness = new SumKzgVerifierHarness();
        vm.etch(address(verifier), address(harness).code);
        (bool ok, bytes memory sb, uint256[] memory ch) =
            SumKzgVerifierHarness(address(verifier)).inferenceTranscript(st, proof);
        assertEq(sb, vm.parseJsonBytes(json, ".inference.statement_bytes"), "statement bytes");
        uint256[] memory want = vm.parseJsonUintArray(json, ".inference.challenges");
        assertEq(ch.length, want.length, "challenge count");
        for (uint256 i; i < want.length; ++i) {
            assertEq(ch[i], want[i], string.concat("inference challenge #", vm.toString(i)));
        }
        assertTrue(ok);
    }

    function test_gas_verifyPartitionProof_vector() public {
        _register();
        bytes memory data = abi.encodeCall(IProofVerifier.verifyPartitionProof, (st, proof));
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = address(verifier).staticcall(data);
        uint256 used = before - gasleft();
        assertTrue(ok && abi.decode(ret, (bool)));
        uint256 zeros;
        for (uint256 i; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
        }
        uint256 calldataGas = 4 * zeros + 16 * (data.length - zeros);
        console.log("verifyPartitionProof 5x7: execution gas", used);
        console.log("verifyPartitionProof 5x7: calldata bytes", data.length);
        console.log(
            "verifyPartitionProof 5x7: transaction gas (21000 + calldata + execution)", 21_000 + calldataGas + used
        );
        assertLe(used, 700_000);
    }

    /// @notice Too little gas for a precompile is a revert (NotEnoughGas), never a rejection: an
    ///         estimate or a caller short of gas must not turn a valid proof into "false".
    function test_inference_tooLittleGasReverts() public {
        _register();
        bytes memory data = abi.encodeCall(IProofVerifier.verifyPartitionProof, (st, proof));
        for (uint256 g = 150_000; g < 500_000; g += 25_000) {
            (bool ok, bytes memory ret) = address(verifier).staticcall{gas: g}(data);
            if (ok) {
                assertTrue(abi.decode(ret, (bool)), "a valid proof was rejected for lack of gas");
            } else if (ret.length >= 4) {
                // forge-lint: disable-next-line(unsafe-typecast)
                assertEq(bytes4(ret), Bls12381.NotEnoughGas.selector);
            }
        }
        assertTrue(_verify(st, proof));
    }

    // ---------------------------------------------------------------------------------------------
    // Inference: mutations of the proof
    // ---------------------------------------------------------------------------------------------

    function test_mutation_everyScalarPlusOne() public {
        _register();
        Sections memory s = _sections();
        uint256 count;
        for (uint256 o = s.gamma; o < s.end; o += 32) {
            if (_isPoint(s, o)) continue;
            bytes memory p = _setWord(proof, o, addmod(_word(proof, o), 1, R));
            assertFalse(_verify(st, p), string.concat("scalar +1 at ", vm.toString(o)));
            ++count;
        }
        // Γ, the rounds, evals[6], the fold evaluations and the Libra evaluations.
        assertEq(count, 1 + 4 * vm.parseJsonUint(json, ".inference.layout.ell") + 6 + 36 + 4);
    }

    function test_mutation_nonCanonicalScalars() public {
        _register();
        Sections memory s = _sections();
        for (uint256 o = s.gamma; o < s.end; o += 32) {
            if (_isPoint(s, o)) continue;
            uint256 v = _word(proof, o);
            // v + r is the same residue: a reducing verifier would accept it.
            assertFalse(_verify(st, _setWord(proof, o, v + R)), string.concat("v + r at ", vm.toString(o)));
        }
        // And the all-ones word in the last fold evaluation and the last Libra evaluation.
        assertFalse(_verify(st, _setWord(proof, s.libraEvals - 32, type(uint256).max)));
        assertFalse(_verify(st, _setWord(proof, s.witnesses - 32, type(uint256).max)));
    }

    function test_mutation_everyPointReplaced() public {
        _register();
        Sections memory s = _sections();
        (bytes memory g0,,) = verifier.setupPoints();
        for (uint256 o; o < s.end; o = _nextPoint(s, o)) {
            // Replaced by G[0] (a valid point), by infinity, and swapped with the next point.
            bytes memory p = bytes.concat(proof);
            for (uint256 b; b < 128; ++b) {
                p[o + b] = g0[b];
            }
            assertFalse(_verify(st, p), string.concat("G0 at ", vm.toString(o)));
            p = bytes.concat(proof);
            for (uint256 b; b < 128; ++b) {
                p[o + b] = 0;
            }
            assertFalse(_verify(st, p), string.concat("infinity at ", vm.toString(o)));
            uint256 other = _nextPoint(s, o);
            if (other >= s.end) other = o - 128;
            assertFalse(_verify(st, _swapPoints(proof, o, other)), string.concat("swap at ", vm.toString(o)));
        }
    }

    function test_mutation_paddingAndCoordinates() public {
        _register();
        Sections memory s = _sections();
        for (uint256 o; o < s.end; o = _nextPoint(s, o)) {
            // A padding byte set (x and y), the coordinate plus p (the same residue), an off-curve point.
            bytes memory p = bytes.concat(proof);
            p[o + 3] = 0x01;
            assertFalse(_verify(st, p), "x padding");
            p = bytes.concat(proof);
            p[o + 64 + 15] = 0x01;
            assertFalse(_verify(st, p), "y padding");
            assertFalse(_verify(st, _plusP(proof, o)), "x + p");
            assertFalse(_verify(st, _plusP(proof, o + 64)), "y + p");
            assertFalse(_verify(st, _setWord(proof, o, P_HI)), "x >= p");
            assertFalse(_verify(st, _setWord(proof, o + 96, _word(proof, o + 96) ^ 1)), "off curve");
        }
    }

    /// @dev The offset of the point after the one at `o` (s.end after the last).
    function _nextPoint(Sections memory s, uint256 o) internal pure returns (uint256 next) {
        next = o + 128;
        if (next == s.gamma) next += 32;
        if (next == s.sumcheck) next = s.cA;
        if (next == s.foldEvals) next = s.witnesses;
    }

    /// @notice Z10: C_R, C_Lib, C_Mk, C_A, C_Q at infinity are refused (false, never a revert).
    function test_degenerate_maskCommitmentsAtInfinity() public {
        _register();
        Sections memory s = _sections();
        uint256[5] memory at = [s.cR, s.cLib, s.cMk, s.cA, s.cQ];
        for (uint256 k; k < 5; ++k) {
            bytes memory p = bytes.concat(proof);
            for (uint256 b; b < 128; ++b) {
                p[at[k] + b] = 0;
            }
            assertFalse(_verify(st, p), string.concat("infinity at ", vm.toString(at[k])));
        }
        assertTrue(_verify(st, proof));
    }

    /// @notice Z10 for registration: C_Lib, C_Mk, C_A, C_Q at infinity revert InvalidRegistrationProof.
    function test_degenerate_registrationMaskCommitmentsAtInfinity() public {
        uint256 sc = _registrationSumcheck();
        uint256 kHwB =
            vm.parseJsonUint(json, ".registration.layout.k_hw") + vm.parseJsonUint(json, ".registration.layout.k_b");
        uint256 cLib = sc - 128 * kHwB - 32 - 256;
        uint256 cA = sc + 128 * vm.parseJsonUint(json, ".inference.layout.ell") + 32 * 7;
        uint256[4] memory at = [cLib, cLib + 128, cA, cA + 128];
        for (uint256 k; k < 4; ++k) {
            bytes memory p = bytes.concat(regProof);
            for (uint256 b; b < 128; ++b) {
                p[at[k] + b] = 0;
            }
            vm.expectRevert(SumKzgVerifier.InvalidRegistrationProof.selector);
            verifier.registerCommitment(regM, regN, p);
        }
        _register();
    }

    function test_mutation_lengths() public {
        _register();
        assertFalse(_verify(st, _truncate(proof, 1)));
        assertFalse(_verify(st, _truncate(proof, 32)));
        assertFalse(_verify(st, bytes.concat(proof, hex"00")));
        assertFalse(_verify(st, bytes.concat(proof, new bytes(32))));
        assertFalse(_verify(st, ""));
    }

    // ---------------------------------------------------------------------------------------------
    // Inference: tampered statements
    // ---------------------------------------------------------------------------------------------

    function test_tamper_outputsAndInputs() public {
        _register();
        for (uint256 i; i < st.output.length; ++i) {
            for (uint256 d; d < 2; ++d) {
                PartitionStatement memory s = _copy(st);
                // ±1 wrapping around the byte (int8 127 + 1 is −128; relu then refuses it too).
                s.output[i] = bytes1(uint8((uint256(uint8(s.output[i])) + (d == 0 ? 1 : 255)) & 0xff));
                assertFalse(_verify(s, proof), string.concat("y +-1 at ", vm.toString(i)));
            }
        }
        for (uint256 j; j < st.input.length; ++j) {
            PartitionStatement memory s = _copy(st);
            s.input[j] = bytes1(uint8(s.input[j]) ^ 0x01);
            assertFalse(_verify(s, proof), string.concat("x at ", vm.toString(j)));
        }
        // Lengths.
        PartitionStatement memory t = _copy(st);
        t.output = bytes.concat(t.output, hex"00");
        assertFalse(_verify(t, proof));
        t = _copy(st);
        t.input = bytes.concat(t.input, hex"00");
        assertFalse(_verify(t, proof));
    }

    function test_tamper_headerFields() public {
        _register();
        LayerHeader memory h = _header(st);
        PartitionStatement memory s = _copy(st);
        h.multiplier += 1;
        _withHeader(s, h);
        assertFalse(_verify(s, proof), "M");
        h = _header(st);
        h.shift += 1;
        _withHeader(s, h);
        assertFalse(_verify(s, proof), "k");
        h = _header(st);
        h.activation ^= 1;
        _withHeader(s, h);
        assertFalse(_verify(s, proof), "activation");
        // Invalid parameters and encodings never revert.
        h = _header(st);
        h.multiplier = uint32(1) << 31;
        _withHeader(s, h);
        assertFalse(_verify(s, proof), "M >= 2^31");
        h = _header(st);
        h.shift = 63;
        _withHeader(s, h);
        assertFalse(_verify(s, proof), "k = 63");
        h = _header(st);
        h.activation = 2;
        _withHeader(s, h);
        assertFalse(_verify(s, proof), "activation 2");
        LayerHeader[] memory two = new LayerHeader[](2);
        two[0] = _header(st);
        two[1] = _header(st);
        s.layerHeaders = abi.encode(two);
        assertFalse(_verify(s, proof), "two layers");
        s.layerHeaders = hex"1234";
        assertFalse(_verify(s, proof), "garbage headers");
    }

    function test_tamper_ids() public {
        _register();
        PartitionStatement memory s = _copy(st);
        s.jobId = bytes32(uint256(st.jobId) + 1);
        assertFalse(_verify(s, proof), "jobId");
        s = _copy(st);
        s.modelId = bytes32(uint256(st.modelId) ^ 1);
        assertFalse(_verify(s, proof), "modelId");
        s = _copy(st);
        s.partitionIndex = st.partitionIndex + 1;
        assertFalse(_verify(s, proof), "partitionIndex");
        s = _copy(st);
        s.weightCommitment = bytes32(uint256(st.weightCommitment) ^ 1);
        assertFalse(_verify(s, proof), "weightCommitment");
        s = _copy(st);
        s.setupId = keccak256("other setup");
        assertFalse(_verify(s, proof), "setupId");
    }

    function test_tamper_reluOutputNegative() public {
        _register();
        LayerHeader memory h = _header(st);
        assertEq(h.activation, 1, "the vector is relu");
        PartitionStatement memory s = _copy(st);
        s.output[0] = 0x80;
        assertFalse(_verify(s, proof));
    }

    function test_tamper_chainId() public {
        _register();
        VMX.chainId(chainId + 1);
        assertFalse(_verify(st, proof));
        VMX.chainId(chainId);
        assertTrue(_verify(st, proof));
    }

    function test_tamper_otherVerifierAddress() public {
        _register();
        // Another verifier with the same commitment recorded (written directly: its registration
        // transcript would bind its own address).
        SumKzgVerifier other = new SumKzgVerifier();
        bytes32 key = verifier.commitmentKey(hW, regM, regN);
        VMX.store(address(other), keccak256(abi.encode(key, uint256(0))), bytes32(uint256(1)));
        assertTrue(other.wellFormed(key));
        assertTrue(other.isWellFormed(hW, other.SETUP_ID(), st.layerHeaders));
        assertFalse(other.verifyPartitionProof{gas: VERIFY_GAS}(st, proof));
        assertTrue(_verify(st, proof));
    }

    // ---------------------------------------------------------------------------------------------
    // Byte helpers
    // ---------------------------------------------------------------------------------------------

    /// @dev The 64-byte coordinate at `o` plus p: the same residue, not canonical.
    function _plusP(bytes memory b, uint256 o) internal pure returns (bytes memory) {
        uint256 hi = _word(b, o);
        uint256 lo = _word(b, o + 32);
        unchecked {
            uint256 newLo = lo + P_LO;
            uint256 carry = newLo < lo ? 1 : 0;
            return _setWord(_setWord(b, o + 32, newLo), o, hi + P_HI + carry);
        }
    }

    function _truncate(bytes memory b, uint256 by) internal pure returns (bytes memory out) {
        out = new bytes(b.length - by);
        for (uint256 i; i < out.length; ++i) {
            out[i] = b[i];
        }
    }

    function _swapPoints(bytes memory b, uint256 x, uint256 y) internal pure returns (bytes memory out) {
        out = bytes.concat(b);
        for (uint256 i; i < 128; ++i) {
            (out[x + i], out[y + i]) = (b[y + i], b[x + i]);
        }
    }
}
