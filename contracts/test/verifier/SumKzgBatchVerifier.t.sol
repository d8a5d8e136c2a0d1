// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BatchStatement} from "../../src/interfaces/IBatchProofVerifier.sol";
import {PartitionStatement} from "../../src/interfaces/IProofVerifier.sol";
import {LayerHeader} from "../../src/lib/Types.sol";
import {SumKzgBatchVerifier} from "../../src/verifier/SumKzgBatchVerifier.sol";
import {SumKzgVerifier} from "../../src/verifier/SumKzgVerifier.sol";
import {Test, console} from "../utils/Test.sol";

/// @notice Cheatcodes these tests need beyond utils/Vm.sol.
interface VmBatchExtra {
    function chainId(uint256 newChainId) external;
}

/// @title SumKzgBatchVerifier against the Python reference's batch proof
///        (tests/vectors/sumkzg_batch_proof.json, written by tests/vectors/generate_batch.py)
/// @notice The vector's base and batch verifier addresses and chain id are the Python statements': the
///         base verifier's code is placed at its address (vm.etch) and the commitment registered there;
///         the batch verifier, built on that base, is placed at its address. The honest batch (B = 3)
///         and the batch of one (through verifyPartitionProof) must verify; the vector's mutated
///         proofs and every tampered statement must be refused without a revert.
contract SumKzgBatchVerifierTest is Test {
    VmBatchExtra internal constant VMX = VmBatchExtra(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes4 internal constant NOT_ENOUGH_GAS = bytes4(keccak256("NotEnoughGas(uint256,uint256)"));

    string internal json;
    SumKzgVerifier internal base;
    SumKzgBatchVerifier internal batch;
    uint256 internal chainId;
    bytes internal proof;
    bytes internal singleProof;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/sumkzg_batch_proof.json"));
        chainId = vm.parseJsonUint(json, ".chain_id");
        VMX.chainId(chainId);
        address baseAt = vm.parseJsonAddress(json, ".base");
        vm.etch(baseAt, address(new SumKzgVerifier()).code);
        base = SumKzgVerifier(baseAt);
        address batchAt = vm.parseJsonAddress(json, ".verifier");
        vm.etch(batchAt, address(new SumKzgBatchVerifier(base)).code);
        batch = SumKzgBatchVerifier(batchAt);
        proof = vm.parseJsonBytes(json, ".proof");
        singleProof = vm.parseJsonBytes(json, ".single.proof");
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    function _register() internal {
        // forge-lint: disable-start(unsafe-typecast)
        base.registerCommitment(
            uint32(vm.parseJsonUint(json, ".registration.m")),
            uint32(vm.parseJsonUint(json, ".registration.n")),
            vm.parseJsonBytes(json, ".registration.proof")
        );
        // forge-lint: disable-end(unsafe-typecast)
    }

    function _headers() internal view returns (bytes memory) {
        LayerHeader[] memory hs = new LayerHeader[](1);
        // forge-lint: disable-start(unsafe-typecast)
        hs[0] = LayerHeader({
            inDim: uint32(vm.parseJsonUint(json, ".statement.n")),
            outDim: uint32(vm.parseJsonUint(json, ".statement.m")),
            multiplier: uint32(vm.parseJsonUint(json, ".statement.multiplier")),
            shift: uint8(vm.parseJsonUint(json, ".statement.shift")),
            activation: uint8(vm.parseJsonUint(json, ".statement.activation"))
        });
        // forge-lint: disable-end(unsafe-typecast)
        return abi.encode(hs);
    }

    function _statement() internal view returns (BatchStatement memory s) {
        s.modelId = vm.parseJsonBytes32(json, ".statement.model_id");
        s.partitionIndex = vm.parseJsonUint(json, ".statement.partition_index");
        s.weightCommitment = vm.parseJsonBytes32(json, ".statement.h_w");
        s.setupId = batch.SETUP_ID();
        s.layerHeaders = _headers();
        s.inputs = vm.parseJsonBytesArray(json, ".statement.xs");
        s.outputs = vm.parseJsonBytesArray(json, ".statement.ys");
        s.jobIds = vm.parseJsonBytes32Array(json, ".statement.job_ids");
    }

    function _single() internal view returns (PartitionStatement memory s) {
        s = PartitionStatement({
            modelId: vm.parseJsonBytes32(json, ".statement.model_id"),
            partitionIndex: vm.parseJsonUint(json, ".statement.partition_index"),
            weightCommitment: vm.parseJsonBytes32(json, ".statement.h_w"),
            setupId: batch.SETUP_ID(),
            layerHeaders: _headers(),
            input: vm.parseJsonBytes(json, ".single.x"),
            output: vm.parseJsonBytes(json, ".single.y"),
            jobId: vm.parseJsonBytes32(json, ".single.job_id")
        });
    }

    function _copy(BatchStatement memory s) internal pure returns (BatchStatement memory t) {
        t = abi.decode(abi.encode(s), (BatchStatement));
    }

    function _verify(BatchStatement memory s, bytes memory p) internal view returns (bool) {
        return batch.verifyBatchProof(s, p);
    }

    // ---------------------------------------------------------------------------------------------
    // Golden vector
    // ---------------------------------------------------------------------------------------------

    function test_goldenBatch_verifies() public {
        _register();
        BatchStatement memory s = _statement();
        assertTrue(batch.verifyBatchProof(s, proof));
    }

    function test_goldenSingle_verifiesAsPartitionProofAndBatchOfOne() public {
        _register();
        PartitionStatement memory one = _single();
        assertTrue(batch.verifyPartitionProof(one, singleProof));
        BatchStatement memory s = _statement();
        s.inputs = new bytes[](1);
        s.outputs = new bytes[](1);
        s.jobIds = new bytes32[](1);
        s.inputs[0] = one.input;
        s.outputs[0] = one.output;
        s.jobIds[0] = one.jobId;
        assertTrue(batch.verifyBatchProof(s, singleProof));
        // Not a proof for the base verifier (other domain, other address).
        assertFalse(base.verifyPartitionProof(one, singleProof));
        // The batch-of-three proof is not a batch of one.
        assertFalse(batch.verifyPartitionProof(one, proof));
    }

    function test_goldenRejectedVariants() public {
        _register();
        BatchStatement memory s = _statement();
        for (uint256 i; i < 3; ++i) {
            bytes memory bad = vm.parseJsonBytes(json, string.concat(".rejected[", vm.toString(i), "].proof"));
            assertFalse(_verify(s, bad));
        }
    }

    function test_unregisteredCommitment_false() public view {
        assertFalse(_verify(_statement(), proof));
        assertFalse(batch.isWellFormed(_statement().weightCommitment, batch.SETUP_ID(), _headers()));
    }

    function test_isWellFormed_defersToBase() public {
        _register();
        bytes32 h = _statement().weightCommitment;
        assertTrue(batch.isWellFormed(h, batch.SETUP_ID(), _headers()));
        assertEq(batch.isWellFormed(h, batch.SETUP_ID(), _headers()), base.isWellFormed(h, base.SETUP_ID(), _headers()));
        assertFalse(batch.isWellFormed(h, bytes32(uint256(1)), _headers()));
    }

    function test_otherChain_false() public {
        _register();
        VMX.chainId(chainId + 1);
        assertFalse(_verify(_statement(), proof));
    }

    // ---------------------------------------------------------------------------------------------
    // Tampered statements: false, never a revert
    // ---------------------------------------------------------------------------------------------

    function test_tampered_swappedOutputs() public {
        _register();
        BatchStatement memory s = _statement();
        (s.outputs[0], s.outputs[1]) = (s.outputs[1], s.outputs[0]);
        assertFalse(_verify(s, proof));
    }

    function test_tampered_swappedJobIds() public {
        _register();
        BatchStatement memory s = _statement();
        (s.jobIds[0], s.jobIds[1]) = (s.jobIds[1], s.jobIds[0]);
        assertFalse(_verify(s, proof));
    }

    function test_tampered_droppedInstance() public {
        _register();
        BatchStatement memory s = _statement();
        BatchStatement memory t = _copy(s);
        t.inputs = new bytes[](2);
        t.outputs = new bytes[](2);
        t.jobIds = new bytes32[](2);
        for (uint256 b; b < 2; ++b) {
            t.inputs[b] = s.inputs[b];
            t.outputs[b] = s.outputs[b];
            t.jobIds[b] = s.jobIds[b];
        }
        assertFalse(_verify(t, proof));
    }

    function test_tampered_repeatedJobId() public {
        _register();
        BatchStatement memory s = _statement();
        s.jobIds[2] = s.jobIds[0];
        assertFalse(_verify(s, proof));
    }

    function test_tampered_lengthMismatches() public {
        _register();
        BatchStatement memory s = _statement();
        BatchStatement memory t = _copy(s);
        t.jobIds = new bytes32[](2);
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.outputs = new bytes[](4);
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.inputs[1] = bytes.concat(t.inputs[1], hex"00");
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.outputs[2] = hex"01";
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.inputs = new bytes[](0);
        t.outputs = new bytes[](0);
        t.jobIds = new bytes32[](0);
        assertFalse(_verify(t, proof));
    }

    function test_tampered_tooManyInstances() public {
        _register();
        BatchStatement memory s = _statement();
        BatchStatement memory t = _copy(s);
        t.inputs = new bytes[](65);
        t.outputs = new bytes[](65);
        t.jobIds = new bytes32[](65);
        for (uint256 b; b < 65; ++b) {
            t.inputs[b] = s.inputs[b % 3];
            t.outputs[b] = s.outputs[b % 3];
            t.jobIds[b] = bytes32(b + 1);
        }
        assertFalse(_verify(t, proof));
    }

    function test_tampered_negativeReluOutput() public {
        _register();
        BatchStatement memory s = _statement();
        s.outputs[1][0] = 0xff;
        assertFalse(_verify(s, proof));
    }

    function test_tampered_fields() public {
        _register();
        BatchStatement memory s = _statement();
        BatchStatement memory t = _copy(s);
        t.modelId = bytes32(uint256(t.modelId) + 1);
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.partitionIndex += 1;
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.setupId = bytes32(uint256(1));
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.weightCommitment = bytes32(uint256(2));
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.inputs[2][5] ^= 0x01;
        assertFalse(_verify(t, proof));
        // Two layers, or a malformed header encoding.
        LayerHeader[] memory hs = abi.decode(s.layerHeaders, (LayerHeader[]));
        LayerHeader[] memory two = new LayerHeader[](2);
        two[0] = hs[0];
        two[1] = hs[0];
        t = _copy(s);
        t.layerHeaders = abi.encode(two);
        assertFalse(_verify(t, proof));
        t = _copy(s);
        t.layerHeaders = hex"0011";
        assertFalse(_verify(t, proof));
        t = _copy(s);
        hs[0].shift += 1;
        t.layerHeaders = abi.encode(hs);
        assertFalse(_verify(t, proof));
    }

    function test_wrongProofLength_false() public {
        _register();
        BatchStatement memory s = _statement();
        assertFalse(_verify(s, bytes.concat(proof, hex"00")));
        assertFalse(_verify(s, new bytes(0)));
        assertFalse(_verify(s, singleProof)); // B = 3 wants the B = 3 length (same ℓ, K_L here: other bytes)
    }

    // ---------------------------------------------------------------------------------------------
    // Gas and size
    // ---------------------------------------------------------------------------------------------

    function test_notEnoughGas_reverts_NotEnoughGas() public {
        _register();
        bytes memory data = abi.encodeCall(SumKzgBatchVerifier.verifyBatchProof, (_statement(), proof));
        (bool ok, bytes memory ret) = address(batch).staticcall{gas: 330_000}(data);
        assertFalse(ok);
        assertTrue(ret.length >= 4);
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEq(bytes4(ret), NOT_ENOUGH_GAS);
    }

    function test_runtimeSize_underLimit() public view {
        assertTrue(address(batch).code.length < 24_576);
        console.log("SumKzgBatchVerifier runtime size", address(batch).code.length);
    }
}
