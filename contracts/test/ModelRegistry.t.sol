// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IProofVerifier} from "../src/interfaces/IProofVerifier.sol";
import {LayerHeader, PartitionSpec} from "../src/lib/Types.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice The expectCall cheatcode (not in utils/Vm.sol).
interface VmExpectCall {
    function expectCall(address callee, bytes calldata data) external;
}

contract ModelRegistryTest is Fixture {
    function _expectedId(LayerHeader[] memory h, bytes32[] memory roots, PartitionSpec[] memory p)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(keccak256("opzk.model.v1"), h, roots, p));
    }

    function _try(ModelSpec memory s, bytes32[] memory roots, bytes memory err) internal {
        vm.expectRevert(err);
        registry.registerModel(s.headers, roots, s.partitions, s.verifiers);
    }

    function _tryHeaders(ModelSpec memory s, bytes memory err) internal {
        _try(s, _dummyRoots(s.headers.length), err);
    }

    function _dummyRoots(uint256 n) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            r[i] = keccak256(abi.encode("root", i));
        }
    }

    // ------------------------------------------------------------------ happy paths and views

    function test_register_publicModel_idEventAndViews() public {
        ModelSpec memory s = _publicSpec();
        s.seed = 99; // a new model (different weights)
        bytes32[] memory roots = _weightRoots(s);
        bytes32 expected = _expectedId(s.headers, roots, s.partitions);
        vm.expectEmit(true, true, false, true, address(registry));
        emit ModelRegistry.ModelRegistered(expected, owner, 2, 1);
        vm.prank(owner);
        bytes32 id = registry.registerModel(s.headers, roots, s.partitions, s.verifiers);
        assertEq(id, expected);

        assertTrue(registry.isRegistered(id));
        assertEq(registry.ownerOf(id), owner);
        assertEq(registry.layerCount(id), 2);
        assertEq(registry.partitionCount(id), 1);
        LayerHeader memory h2 = registry.layerHeader(id, 2);
        assertEq(h2.inDim, 3);
        assertEq(h2.outDim, 2);
        assertEq(h2.multiplier, 3 << 20);
        assertEq(h2.shift, 29);
        assertEq(h2.activation, 0);
        (LayerHeader memory h1, bytes32 root1, uint256 layers) = registry.layerForFraudProof(id, 1);
        assertEq(h1.outDim, 3);
        assertEq(h1.activation, 1);
        assertEq(root1, roots[0]);
        assertEq(layers, 2);
        assertEq(registry.weightRoot(id, 2), roots[1]);
        (PartitionSpec memory p0, address v0) = registry.partition(id, 0);
        assertEq(p0.firstLayer, 1);
        assertEq(p0.lastLayer, 2);
        assertFalse(p0.sensitive);
        assertEq(v0, address(0));
        LayerHeader[] memory all = registry.layerHeaders(id);
        assertEq(all.length, 2);
        assertEq(all[0].inDim, 4);
        for (uint256 i; i <= 2; ++i) {
            assertTrue(registry.isPublicTraceIndex(id, i));
        }
    }

    function test_register_sensitiveMiddlePartition_views() public view {
        bytes32 id = sensitiveModel;
        ModelSpec memory s = _sensitiveSpec();
        assertEq(id, _expectedId(s.headers, _weightRoots(s), s.partitions));
        assertEq(registry.layerCount(id), 4);
        assertEq(registry.partitionCount(id), 3);
        // Trace entries: 0 input, 1 partition input, 2 hidden (a=2 <= 2 < b=3), 3 partition output, 4 output.
        assertTrue(registry.isPublicTraceIndex(id, 0));
        assertTrue(registry.isPublicTraceIndex(id, 1));
        assertFalse(registry.isPublicTraceIndex(id, 2));
        assertTrue(registry.isPublicTraceIndex(id, 3));
        assertTrue(registry.isPublicTraceIndex(id, 4));
        assertEq(registry.weightRoot(id, 2), bytes32(0));
        assertEq(registry.weightRoot(id, 3), bytes32(0));
        assertTrue(registry.weightRoot(id, 1) != bytes32(0));
        assertTrue(registry.weightRoot(id, 4) != bytes32(0));
        (PartitionSpec memory p1, address v1) = registry.partition(id, 1);
        assertTrue(p1.sensitive);
        assertEq(p1.firstLayer, 2);
        assertEq(p1.lastLayer, 3);
        assertEq(p1.weightCommitment, keccak256("opzk.test.commitment"));
        assertEq(p1.setupId, keccak256("opzk.test.setup"));
        assertEq(v1, address(verifier));
        (, bytes32 root3,) = registry.layerForFraudProof(id, 3);
        assertEq(root3, bytes32(0));
    }

    function test_isPublicTraceIndex_lastLayerSensitivePartition() public {
        // 3 layers, partition [2..3] sensitive: entry 2 hidden, entry 3 (= L) public.
        LayerHeader[] memory h = new LayerHeader[](3);
        h[0] = LayerHeader(2, 2, 1 << 20, 20, 1);
        h[1] = LayerHeader(2, 2, 1 << 20, 20, 1);
        h[2] = LayerHeader(2, 2, 1 << 20, 20, 0);
        PartitionSpec[] memory p = new PartitionSpec[](2);
        p[0] = PartitionSpec(1, 1, false, bytes32(0), bytes32(0));
        p[1] = PartitionSpec(2, 3, true, bytes32(uint256(1)), bytes32(0));
        address[] memory v = new address[](2);
        v[1] = address(verifier);
        bytes32[] memory roots = new bytes32[](3);
        roots[0] = bytes32(uint256(7));
        bytes32 id = registry.registerModel(h, roots, p, v);
        assertTrue(registry.isPublicTraceIndex(id, 0));
        assertTrue(registry.isPublicTraceIndex(id, 1));
        assertFalse(registry.isPublicTraceIndex(id, 2));
        assertTrue(registry.isPublicTraceIndex(id, 3));
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, id, 4));
        registry.isPublicTraceIndex(id, 4);
    }

    function test_register_duplicateReverts_evenWithOtherVerifierOrOwner() public {
        ModelSpec memory s = _sensitiveSpec();
        bytes32[] memory roots = _weightRoots(s);
        // The verifier is not part of the id: same model, another verifier contract, another owner.
        s.verifiers[1] = address(registry);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelAlreadyRegistered.selector, sensitiveModel));
        registry.registerModel(s.headers, roots, s.partitions, s.verifiers);
        // Nothing changed.
        assertEq(registry.ownerOf(sensitiveModel), owner);
        (, address v1) = registry.partition(sensitiveModel, 1);
        assertEq(v1, address(verifier));
    }

    function test_register_sameShapeDifferentWeights_isAnotherModel() public {
        ModelSpec memory s = _publicSpec();
        s.seed = 1234;
        bytes32 id = _register(s, node);
        assertTrue(id != publicModel);
        assertEq(registry.ownerOf(id), node);
        assertEq(registry.ownerOf(publicModel), owner);
    }

    // ------------------------------------------------------------------ validation errors

    function test_revert_EmptyModel() public {
        ModelSpec memory s = _publicSpec();
        s.headers = new LayerHeader[](0);
        _try(s, new bytes32[](0), abi.encodeWithSelector(ModelRegistry.EmptyModel.selector));
    }

    function test_revert_LengthMismatch_roots() public {
        ModelSpec memory s = _publicSpec();
        _try(s, _dummyRoots(1), abi.encodeWithSelector(ModelRegistry.LengthMismatch.selector));
    }

    function test_revert_LengthMismatch_verifiers() public {
        ModelSpec memory s = _publicSpec();
        s.verifiers = new address[](2);
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.LengthMismatch.selector));
    }

    function test_revert_InvalidDimension() public {
        ModelSpec memory s = _publicSpec();
        s.headers[0].inDim = 0;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidDimension.selector, 1));
        s = _publicSpec();
        s.headers[1].outDim = 0;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidDimension.selector, 2));
        s = _publicSpec();
        s.headers[1].outDim = uint32(1 << 16) + 1;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidDimension.selector, 2));
        s = _publicSpec();
        s.headers[0].inDim = uint32(1 << 16) + 1;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidDimension.selector, 1));
    }

    function test_register_maxDimAccepted() public {
        LayerHeader[] memory h = new LayerHeader[](1);
        h[0] = LayerHeader(uint32(1 << 16), 1, 1, 1, 0);
        PartitionSpec[] memory p = new PartitionSpec[](1);
        p[0] = PartitionSpec(1, 1, false, bytes32(0), bytes32(0));
        bytes32 id = registry.registerModel(h, _dummyRoots(1), p, new address[](1));
        assertEq(registry.layerHeader(id, 1).inDim, 1 << 16);
    }

    function test_revert_DimensionMismatch() public {
        ModelSpec memory s = _publicSpec();
        s.headers[1].inDim = 5;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.DimensionMismatch.selector, 2, uint32(3), uint32(5)));
    }

    function test_revert_InvalidMultiplier() public {
        ModelSpec memory s = _publicSpec();
        s.headers[1].multiplier = uint32(1) << 31;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidMultiplier.selector, 2, uint32(1) << 31));
    }

    function test_revert_InvalidShift() public {
        ModelSpec memory s = _publicSpec();
        s.headers[0].shift = 0;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidShift.selector, 1, uint8(0)));
        s.headers[0].shift = 63;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidShift.selector, 1, uint8(63)));
    }

    function test_register_shiftAndMultiplierBoundsAccepted() public {
        ModelSpec memory s = _publicSpec();
        s.headers[0].shift = 1;
        s.headers[1].shift = 62;
        s.headers[1].multiplier = (uint32(1) << 31) - 1;
        bytes32 id = registry.registerModel(s.headers, _dummyRoots(2), s.partitions, s.verifiers);
        assertEq(registry.layerHeader(id, 2).shift, 62);
    }

    function test_revert_InvalidActivation() public {
        ModelSpec memory s = _publicSpec();
        s.headers[1].activation = 2;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.InvalidActivation.selector, 2, uint8(2)));
    }

    function test_revert_PartitionsNotContiguous() public {
        ModelSpec memory s = _publicSpec();
        // Does not start at layer 1.
        s.partitions[0].firstLayer = 2;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 0));
        // Ends before it starts.
        s = _publicSpec();
        s.partitions[0].lastLayer = 0;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 0));
        // Beyond the last layer.
        s = _publicSpec();
        s.partitions[0].lastLayer = 3;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 0));
        // Does not cover layer 2.
        s = _publicSpec();
        s.partitions[0].lastLayer = 1;
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 1));
        // No partitions at all.
        s = _publicSpec();
        s.partitions = new PartitionSpec[](0);
        s.verifiers = new address[](0);
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 0));
        // Overlap: [1..2], [2..2].
        s = _publicSpec();
        s.partitions = new PartitionSpec[](2);
        s.partitions[0] = PartitionSpec(1, 2, false, bytes32(0), bytes32(0));
        s.partitions[1] = PartitionSpec(2, 2, false, bytes32(0), bytes32(0));
        s.verifiers = new address[](2);
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 1));
        // Out of order: [2..2], [1..1].
        s.partitions[0] = PartitionSpec(2, 2, false, bytes32(0), bytes32(0));
        s.partitions[1] = PartitionSpec(1, 1, false, bytes32(0), bytes32(0));
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.PartitionsNotContiguous.selector, 0));
    }

    function test_revert_MissingWeightRoot() public {
        ModelSpec memory s = _publicSpec();
        bytes32[] memory roots = _dummyRoots(2);
        roots[1] = bytes32(0);
        _try(s, roots, abi.encodeWithSelector(ModelRegistry.MissingWeightRoot.selector, 2));
    }

    function test_revert_UnexpectedWeightRoot() public {
        ModelSpec memory s = _sensitiveSpec();
        bytes32[] memory roots = _dummyRoots(4);
        roots[1] = bytes32(0);
        // Layer 3 (inside the sensitive partition) has a root.
        _try(s, roots, abi.encodeWithSelector(ModelRegistry.UnexpectedWeightRoot.selector, 3));
    }

    function test_revert_UnexpectedCommitment() public {
        ModelSpec memory s = _publicSpec();
        s.partitions[0].weightCommitment = bytes32(uint256(1));
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.UnexpectedCommitment.selector, 0));
        s = _publicSpec();
        s.partitions[0].setupId = bytes32(uint256(1));
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.UnexpectedCommitment.selector, 0));
        s = _publicSpec();
        s.verifiers[0] = address(verifier);
        _tryHeaders(s, abi.encodeWithSelector(ModelRegistry.UnexpectedCommitment.selector, 0));
    }

    function test_revert_MissingCommitment() public {
        ModelSpec memory s = _sensitiveSpec();
        s.partitions[1].weightCommitment = bytes32(0);
        _try(s, _weightRoots(s), abi.encodeWithSelector(ModelRegistry.MissingCommitment.selector, 1));
    }

    function test_revert_VerifierNotContract() public {
        ModelSpec memory s = _sensitiveSpec();
        s.verifiers[1] = node;
        _try(s, _weightRoots(s), abi.encodeWithSelector(ModelRegistry.VerifierNotContract.selector, 1, node));
        s.verifiers[1] = address(0);
        _try(s, _weightRoots(s), abi.encodeWithSelector(ModelRegistry.VerifierNotContract.selector, 1, address(0)));
    }

    function test_revert_CommitmentNotWellFormed() public {
        ModelSpec memory s = _sensitiveSpec();
        s.seed = 77; // another model than the fixture's
        verifier.setWellFormed(false);
        _try(s, _weightRoots(s), abi.encodeWithSelector(ModelRegistry.CommitmentNotWellFormed.selector, 1));
        // A verifier contract without isWellFormed (here: the registry) counts as "not well-formed".
        verifier.setWellFormed(true);
        s.verifiers[1] = address(registry);
        _try(s, _weightRoots(s), abi.encodeWithSelector(ModelRegistry.CommitmentNotWellFormed.selector, 1));
        s.verifiers[1] = address(verifier);
        bytes32 id = _register(s, owner);
        assertTrue(registry.isRegistered(id));
    }

    function test_register_asksTheVerifierAboutThePartitionsOwnHeaders() public {
        ModelSpec memory s = _sensitiveSpec();
        s.seed = 78;
        // The sensitive partition is layers 2..3: the verifier is asked about exactly those headers, in
        // the encoding ProofDemandGame later passes to verifyPartitionProof.
        LayerHeader[] memory own = new LayerHeader[](2);
        own[0] = s.headers[1];
        own[1] = s.headers[2];
        PartitionSpec memory p = s.partitions[1];
        VmExpectCall(address(vm))
            .expectCall(
                address(verifier),
                abi.encodeCall(IProofVerifier.isWellFormed, (p.weightCommitment, p.setupId, abi.encode(own)))
            );
        _register(s, owner);
    }

    // ------------------------------------------------------------------ view errors

    function test_revert_UnknownModel() public {
        bytes32 id = keccak256("nope");
        assertFalse(registry.isRegistered(id));
        bytes memory err = abi.encodeWithSelector(ModelRegistry.UnknownModel.selector, id);
        vm.expectRevert(err);
        registry.ownerOf(id);
        vm.expectRevert(err);
        registry.layerCount(id);
        vm.expectRevert(err);
        registry.layerHeader(id, 1);
        vm.expectRevert(err);
        registry.layerForFraudProof(id, 1);
        vm.expectRevert(err);
        registry.weightRoot(id, 1);
        vm.expectRevert(err);
        registry.partitionCount(id);
        vm.expectRevert(err);
        registry.partition(id, 0);
        vm.expectRevert(err);
        registry.isPublicTraceIndex(id, 0);
        vm.expectRevert(err);
        registry.layerHeaders(id);
    }

    function test_revert_UnknownLayer() public {
        bytes32 id = publicModel;
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, id, 0));
        registry.layerHeader(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, id, 3));
        registry.layerHeader(id, 3);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, id, 0));
        registry.layerForFraudProof(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, id, 3));
        registry.weightRoot(id, 3);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, id, 3));
        registry.isPublicTraceIndex(id, 3);
    }

    function test_revert_UnknownPartition() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownPartition.selector, sensitiveModel, 3));
        registry.partition(sensitiveModel, 3);
    }

    function test_constants() public view {
        assertEq(registry.MAX_DIM(), 1 << 16);
        assertEq(registry.MAX_SHIFT(), 62);
        assertEq(registry.MULTIPLIER_LIMIT(), uint256(1) << 31);
    }
}
