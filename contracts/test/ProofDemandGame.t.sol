// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../src/InferenceMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {DisputeGameBase} from "../src/disputes/DisputeGameBase.sol";
import {ProofDemandGame} from "../src/disputes/ProofDemandGame.sol";
import {PartitionStatement} from "../src/interfaces/IProofVerifier.sol";
import {Claim, ClaimSource, LayerHeader} from "../src/lib/Types.sol";
import {ToggleVerifier} from "./doubles/ToggleVerifier.sol";
import {Fixture} from "./utils/Fixture.sol";

contract ProofDemandGameTest is Fixture {
    uint256 internal constant BOND = 0.2 ether;
    bytes internal constant PROOF = hex"c0ffee";

    function setUp() public override {
        super.setUp();
        _stake(node, NODE_STAKE);
    }

    function _claim(uint256 seed) internal returns (Made memory) {
        return _honestBatchClaim(_sensitiveSpec(), sensitiveModel, node, seed);
    }

    function _demand(Made memory m) internal returns (uint256) {
        vm.prank(challenger);
        return proofs.demandProof{value: BOND}(m.ref, 1);
    }

    function _submit(uint256 id, Made memory m) internal returns (bool) {
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        vm.prank(node);
        return proofs.submitProof(id, io, PROOF);
    }

    function _statement(Made memory m, uint256 demandId) internal view returns (PartitionStatement memory st) {
        LayerHeader[] memory hs = new LayerHeader[](2);
        hs[0] = registry.layerHeader(sensitiveModel, 2);
        hs[1] = registry.layerHeader(sensitiveModel, 3);
        st = PartitionStatement({
            modelId: sensitiveModel,
            partitionIndex: 1,
            weightCommitment: keccak256("opzk.test.commitment"),
            setupId: keccak256("opzk.test.setup"),
            layerHeaders: abi.encode(hs),
            input: m.h[1],
            output: m.h[3],
            jobId: keccak256(abi.encode(block.chainid, address(proofs), demandId))
        });
    }

    function _solvent() internal view {
        assertEq(
            address(stakes).balance,
            stakes.totalActiveStake() + stakes.totalPendingWithdrawals() + stakes.totalBonds() + stakes.totalCredits()
        );
        assertEq(address(market).balance, market.totalEscrow() + market.totalCredits());
    }

    function test_demand_locksBond() public {
        Made memory m = _claim(1);
        Claim memory c = market.authenticate(m.ref);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes32 job = keccak256(abi.encode(block.chainid, address(proofs), uint256(1)));
        vm.expectEmit(true, true, true, true, address(proofs));
        emit ProofDemandGame.ProofDemanded(1, c.key, node, challenger, 1, deadline, job);
        uint256 id = _demand(m);
        assertEq(id, 1);
        assertEq(proofs.jobId(1), job);
        assertEq(proofs.demandCount(), 1);
        ProofDemandGame.ProofDemand memory d = proofs.getDemand(id);
        assertEq(d.claim.key, c.key);
        assertEq(d.challenger, challenger);
        assertEq(d.partitionIndex, 1);
        assertEq(d.deadline, deadline);
        assertTrue(d.status == ProofDemandGame.Status.Open);
        assertEq(proofs.openDemandOf(c.key, 1), id);
        assertEq(stakes.bondsOf(challenger), BOND);
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 1);
        _solvent();
    }

    function test_validProof_bondToNode_exactStatement() public {
        Made memory m = _claim(2);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _demand(m);
        verifier.expectStatement(keccak256(abi.encode(_statement(m, id))));
        vm.warp(block.timestamp + 1 hours); // at the deadline: in time
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofAccepted(id, key);
        assertTrue(_submit(id, m));
        assertTrue(proofs.getDemand(id).status == ProofDemandGame.Status.Proven);
        assertEq(proofs.openDemandOf(key, 1), 0);
        assertEq(stakes.credits(node), BOND);
        assertEq(stakes.credits(challenger), 0);
        assertEq(stakes.totalBonds(), 0);
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE);
        assertFalse(market.fraudulent(key));
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 0);
        _solvent();
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandNotOpen.selector, id));
        proofs.submitProof(id, _partitionIO(m, 2, 3), PROOF);
    }

    function test_statementMismatch_isRejected() public {
        // Sanity of the double: a statement with another jobId is not accepted.
        Made memory m = _claim(3);
        uint256 id = _demand(m);
        verifier.expectStatement(keccak256(abi.encode(_statement(m, id + 1))));
        assertFalse(_submit(id, m));
    }

    function test_rejectedProof_slashes() public {
        Made memory m = _claim(4);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _demand(m);
        verifier.setMode(ToggleVerifier.Mode.Reject);
        uint256 burnBefore = BURN.balance;
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofRejected(id, key, 5 ether);
        assertFalse(_submit(id, m));
        assertTrue(proofs.getDemand(id).status == ProofDemandGame.Status.Rejected);
        assertTrue(market.fraudulent(key));
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
        assertEq(stakes.credits(challenger), 2.5 ether + BOND);
        assertEq(BURN.balance - burnBefore, 2.5 ether);
        assertEq(stakes.credits(node), 0);
        _solvent();
    }

    function test_revertingVerifier_slashes() public {
        Made memory m = _claim(5);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _demand(m);
        verifier.setMode(ToggleVerifier.Mode.Revert);
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofRejected(id, key, 5 ether);
        assertFalse(_submit(id, m));
        assertTrue(market.fraudulent(key));
        assertEq(stakes.credits(challenger), 2.5 ether + BOND);
        _solvent();
    }

    function test_verifierOutOfGas_reverts_nothingChanged() public {
        Made memory m = _claim(21);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _demand(m);
        verifier.setMode(ToggleVerifier.Mode.BurnAllGas);
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        vm.prank(node);
        vm.expectRevert(ProofDemandGame.VerifierOutOfGas.selector);
        proofs.submitProof{gas: 400_000}(id, io, PROOF);
        assertFalse(market.fraudulent(key));
        assertEq(proofs.openDemandOf(key, 1), id);
        // With the verifier answering again, the same demand is still answerable.
        verifier.setMode(ToggleVerifier.Mode.Accept);
        assertTrue(_submit(id, m));
        _solvent();
    }

    function test_verifierNotEnoughGas_reverts_nothingChanged() public {
        Made memory m = _claim(22);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _demand(m);
        verifier.setMode(ToggleVerifier.Mode.NotEnoughGas);
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        vm.prank(node);
        vm.expectRevert(ProofDemandGame.VerifierOutOfGas.selector);
        proofs.submitProof(id, io, PROOF);
        assertFalse(market.fraudulent(key));
        assertEq(proofs.openDemandOf(key, 1), id);
        _solvent();
    }

    function test_timeout_slashes() public {
        Made memory m = _claim(6);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _demand(m);
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DeadlineNotPassed.selector, deadline));
        proofs.resolveTimeout(id);
        vm.warp(deadline + 1);
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DeadlinePassed.selector, deadline));
        proofs.submitProof(id, io, PROOF);
        uint256 burnBefore = BURN.balance;
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofDemandTimedOut(id, key, 5 ether);
        assertEq(proofs.resolveTimeout(id), 5 ether);
        assertTrue(proofs.getDemand(id).status == ProofDemandGame.Status.TimedOut);
        assertEq(proofs.openDemandOf(key, 1), 0);
        assertEq(stakes.credits(challenger), 2.5 ether + BOND);
        assertEq(BURN.balance - burnBefore, 2.5 ether);
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 0);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandNotOpen.selector, id));
        proofs.resolveTimeout(id);
        _solvent();
    }

    function test_rejectedOnRequest_refundsClient() public {
        ModelSpec memory s = _sensitiveSpec();
        _serve(node, sensitiveModel);
        (Made memory m, uint256 rid) = _requestAndFulfil(s, sensitiveModel, node, _forward(s, _input(7, 4)));
        uint256 id = _demand(m);
        verifier.setMode(ToggleVerifier.Mode.Reject);
        assertFalse(_submit(id, m));
        assertTrue(market.request(rid).status == InferenceMarket.RequestStatus.Slashed);
        assertEq(market.credits(client), FEE);
        _solvent();
    }

    function test_alreadyFraudulent_noSecondSlash() public {
        ModelSpec memory s = _sensitiveSpec();
        Made memory m = _commitTrace(s, sensitiveModel, node, _forwardTampered(s, _input(8, 4), 4, 0));
        uint256 a = _demand(m);
        vm.prank(challenger);
        fraud.proveLayerFraud(m.ref, _layerFraud(s, m, 4, 0));
        verifier.setMode(ToggleVerifier.Mode.Reject);
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofRejected(a, market.authenticate(m.ref).key, 0);
        assertFalse(_submit(a, m));
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
        assertEq(stakes.credits(challenger), 2.5 ether + BOND);
    }

    // ------------------------------------------------------------------ reverts

    function test_revert_NotClaimNode() public {
        Made memory m = _claim(9);
        uint256 id = _demand(m);
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotClaimNode.selector, challenger));
        proofs.submitProof(id, io, PROOF);
    }

    function test_revert_NotSensitivePartition() public {
        Made memory m = _claim(10);
        vm.startPrank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotSensitivePartition.selector, 0));
        proofs.demandProof{value: BOND}(m.ref, 0);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotSensitivePartition.selector, 2));
        proofs.demandProof{value: BOND}(m.ref, 2);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownPartition.selector, sensitiveModel, 3));
        proofs.demandProof{value: BOND}(m.ref, 3);
        vm.stopPrank();
        Made memory p = _honestBatchClaim(_publicSpec(), publicModel, node, 10);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotSensitivePartition.selector, 0));
        proofs.demandProof{value: BOND}(p.ref, 0);
    }

    function test_revert_WrongBond() public {
        Made memory m = _claim(11);
        vm.startPrank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.WrongBond.selector, 0.1 ether, BOND));
        proofs.demandProof{value: 0.1 ether}(m.ref, 1);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.WrongBond.selector, 0, BOND));
        proofs.demandProof(m.ref, 1);
        vm.stopPrank();
    }

    function test_revert_DemandAlreadyOpen() public {
        Made memory m = _claim(12);
        uint256 id = _demand(m);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandAlreadyOpen.selector, id));
        proofs.demandProof{value: BOND}(m.ref, 1);
        // After it closes, a new demand may be made.
        assertTrue(_submit(id, m));
        assertEq(_demand(m), id + 1);
    }

    function test_revert_DemandNotOpen_unknown() public {
        Made memory m = _claim(13);
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandNotOpen.selector, 4));
        proofs.submitProof(4, io, PROOF);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandNotOpen.selector, 0));
        proofs.resolveTimeout(0);
    }

    function test_revert_submit_InvalidTraceProof() public {
        Made memory m = _claim(14);
        uint256 id = _demand(m);
        ProofDemandGame.PartitionIO memory io = _partitionIO(m, 2, 3);
        io.input = m.h[0];
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 1));
        proofs.submitProof(id, io, PROOF);
        io = _partitionIO(m, 2, 3);
        io.output = m.h[4];
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 3));
        proofs.submitProof(id, io, PROOF);
        // Hidden entry 2 cannot stand in for the partition output.
        io = _partitionIO(m, 2, 3);
        io.output = m.h[2];
        io.outputProof = _traceProof(m, 2);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 3));
        proofs.submitProof(id, io, PROOF);
        assertTrue(proofs.getDemand(id).status == ProofDemandGame.Status.Open);
    }

    function test_revert_demand_windowClosed() public {
        Made memory m = _claim(15);
        uint64 end = uint64(block.timestamp + 1 hours);
        vm.warp(end);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowClosed.selector, end));
        proofs.demandProof{value: BOND}(m.ref, 1);
    }

    function test_immutables() public view {
        assertEq(proofs.bond(), BOND);
        assertEq(proofs.responseWindow(), 1 hours);
    }
}
