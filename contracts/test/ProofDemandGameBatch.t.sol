// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DisputeGameBase} from "../src/disputes/DisputeGameBase.sol";
import {ProofDemandGame} from "../src/disputes/ProofDemandGame.sol";
import {BatchStatement, IBatchProofVerifier} from "../src/interfaces/IBatchProofVerifier.sol";
import {IProofVerifier, PartitionStatement} from "../src/interfaces/IProofVerifier.sol";
import {ClaimSource, LayerHeader, PartitionSpec} from "../src/lib/Types.sol";
import {ToggleVerifier} from "./doubles/ToggleVerifier.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice TEST DOUBLE ONLY — verifies nothing: `verifyBatchProof` and `verifyPartitionProof` answer
///         what the test set (accept, reject, revert with or without data, burn all gas, NotEnoughGas);
///         `expectStatement` pins keccak256(abi.encode(BatchStatement)).
contract ToggleBatchVerifier is IProofVerifier, IBatchProofVerifier {
    enum Mode {
        Accept,
        Reject,
        Revert,
        RevertNoData,
        BurnAllGas,
        NotEnoughGas
    }

    Mode public mode;
    bytes32 public expectedStatementHash;
    uint256 public calls;

    error ToggleBatchReverted();
    error NotEnoughGas(uint256 needed, uint256 available);

    function setMode(Mode m) external {
        mode = m;
    }

    function expectStatement(bytes32 h) external {
        expectedStatementHash = h;
    }

    function isWellFormed(bytes32, bytes32, bytes calldata) external pure returns (bool) {
        return true;
    }

    function verifyPartitionProof(PartitionStatement calldata, bytes calldata) external view returns (bool) {
        return _answer();
    }

    function verifyBatchProof(BatchStatement calldata statement, bytes calldata) external view returns (bool) {
        if (!_answer()) return false;
        bytes32 expected = expectedStatementHash;
        return expected == bytes32(0) || keccak256(abi.encode(statement)) == expected;
    }

    function _answer() private view returns (bool) {
        Mode m = mode;
        if (m == Mode.Revert) revert ToggleBatchReverted();
        if (m == Mode.RevertNoData) revert();
        if (m == Mode.NotEnoughGas) revert NotEnoughGas(1 << 40, gasleft());
        if (m == Mode.BurnAllGas) {
            while (true) {}
        }
        return m == Mode.Accept;
    }
}

/// @notice A "verifier" whose isWellFormed is true and whose every other answer is the word 2 (not a
///         bool), or nothing at all once `silent` is set.
contract GarbageVerifier {
    bool public silent;

    function setSilent(bool s) external {
        silent = s;
    }

    function isWellFormed(bytes32, bytes32, bytes calldata) external pure returns (bool) {
        return true;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        if (silent) return "";
        return abi.encode(uint256(2));
    }
}

/// @notice The state-snapshot cheatcodes (not in contracts/test/utils/Vm.sol).
interface VmSnapshots {
    function snapshotState() external returns (uint256);
    function revertToState(uint256 id) external returns (bool);
}

contract ProofDemandGameBatchTest is Fixture {
    VmSnapshots internal constant SNAP = VmSnapshots(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant BOND = 0.2 ether;
    bytes internal constant PROOF = hex"ba7c4e";
    uint256 internal constant BATCH_SEED = 9;

    ToggleBatchVerifier internal batchVerifier;
    bytes32 internal batchModel;

    function setUp() public override {
        super.setUp();
        _stake(node, NODE_STAKE);
        _stake(node2, NODE_STAKE);
        batchVerifier = new ToggleBatchVerifier();
        batchModel = _register(_batchSpec(), owner);
    }

    /// @notice The fixture's sensitive model (4 -> 3 -> 3 -> 3 -> 2) with its one-layer layer 1 and its
    ///         layers 2..3 both sensitive partitions answered by the batch double.
    function _batchSpec() internal view returns (ModelSpec memory s) {
        s = _sensitiveSpec();
        s.partitions[0] = PartitionSpec(1, 1, true, keccak256("opzk.test.commitment1"), keccak256("opzk.test.setup"));
        s.verifiers[0] = address(batchVerifier);
        s.verifiers[1] = address(batchVerifier);
        s.seed = BATCH_SEED;
    }

    function _claim(uint256 seed) internal returns (Made memory) {
        return _honestBatchClaim(_batchSpec(), batchModel, node, seed);
    }

    function _demand(Made memory m, uint32 partition) internal returns (uint256) {
        vm.prank(challenger);
        return proofs.demandProof{value: BOND}(m.ref, partition);
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _ios(Made memory a, Made memory b) internal pure returns (ProofDemandGame.PartitionIO[] memory ios) {
        ios = new ProofDemandGame.PartitionIO[](2);
        ios[0] = _partitionIO(a, 2, 3);
        ios[1] = _partitionIO(b, 2, 3);
    }

    /// @dev Two claims of the node on the batch model, a demand on partition 1 of each.
    function _two() internal returns (Made memory a, Made memory b, uint256 ida, uint256 idb) {
        a = _claim(101);
        b = _claim(102);
        ida = _demand(a, 1);
        idb = _demand(b, 1);
    }

    function _batchStatement(Made memory a, Made memory b, uint256 ida, uint256 idb)
        internal
        view
        returns (BatchStatement memory st)
    {
        LayerHeader[] memory hs = new LayerHeader[](2);
        hs[0] = registry.layerHeader(batchModel, 2);
        hs[1] = registry.layerHeader(batchModel, 3);
        st.modelId = batchModel;
        st.partitionIndex = 1;
        st.weightCommitment = keccak256("opzk.test.commitment");
        st.setupId = keccak256("opzk.test.setup");
        st.layerHeaders = abi.encode(hs);
        st.inputs = new bytes[](2);
        st.outputs = new bytes[](2);
        st.jobIds = new bytes32[](2);
        st.inputs[0] = a.h[1];
        st.inputs[1] = b.h[1];
        st.outputs[0] = a.h[3];
        st.outputs[1] = b.h[3];
        st.jobIds[0] = keccak256(abi.encode(block.chainid, address(proofs), ida));
        st.jobIds[1] = keccak256(abi.encode(block.chainid, address(proofs), idb));
    }

    function _submit(uint256[] memory ids, ProofDemandGame.PartitionIO[] memory ios) internal {
        vm.prank(node);
        proofs.submitProofs(ids, ios, PROOF);
    }

    function _assertOpen(Made memory m, uint256 id) internal view {
        bytes32 key = market.authenticate(m.ref).key;
        assertTrue(proofs.getDemand(id).status == ProofDemandGame.Status.Open);
        assertEq(proofs.openDemandOf(key, proofs.getDemand(id).partitionIndex), id);
        assertFalse(market.fraudulent(key));
    }

    function _solvent() internal view {
        assertEq(
            address(stakes).balance,
            stakes.totalActiveStake() + stakes.totalPendingWithdrawals() + stakes.totalBonds() + stakes.totalCredits()
        );
        assertEq(address(market).balance, market.totalEscrow() + market.totalCredits());
    }

    // ------------------------------------------------------------------ accepted

    function test_batch_accepted_everyDemandProven_exactStatement() public {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        bytes32 ka = market.authenticate(a.ref).key;
        bytes32 kb = market.authenticate(b.ref).key;
        batchVerifier.expectStatement(keccak256(abi.encode(_batchStatement(a, b, ida, idb))));
        vm.warp(block.timestamp + 1 hours); // at the deadline: in time
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofAccepted(ida, ka);
        vm.expectEmit(true, true, false, true, address(proofs));
        emit ProofDemandGame.ProofAccepted(idb, kb);
        _submit(_ids(ida, idb), _ios(a, b));
        assertTrue(proofs.getDemand(ida).status == ProofDemandGame.Status.Proven);
        assertTrue(proofs.getDemand(idb).status == ProofDemandGame.Status.Proven);
        assertEq(proofs.openDemandOf(ka, 1), 0);
        assertEq(proofs.openDemandOf(kb, 1), 0);
        assertEq(stakes.credits(node), 2 * BOND);
        assertEq(stakes.totalBonds(), 0);
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE);
        assertEq(market.openDisputes(ClaimSource.Batch, a.ref.containerId), 0);
        assertEq(market.openDisputes(ClaimSource.Batch, b.ref.containerId), 0);
        _solvent();
        // Closed: neither can be answered again.
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandNotOpen.selector, ida));
        _submit(_ids(ida, idb), _ios(a, b));
    }

    function test_batch_sameLogsAsSubmitProof() public {
        // The accepted path of one demand through submitProofs emits what submitProof's does.
        Made memory a = _claim(111);
        uint256 ida = _demand(a, 1);
        uint256 snap = SNAP.snapshotState();
        vm.recordLogs();
        vm.prank(node);
        assertTrue(proofs.submitProof(ida, _partitionIO(a, 2, 3), PROOF));
        bytes32 single = keccak256(abi.encode(vm.getRecordedLogs()));
        SNAP.revertToState(snap);
        uint256[] memory ids = new uint256[](1);
        ids[0] = ida;
        ProofDemandGame.PartitionIO[] memory ios = new ProofDemandGame.PartitionIO[](1);
        ios[0] = _partitionIO(a, 2, 3);
        vm.recordLogs();
        _submit(ids, ios);
        assertEq(keccak256(abi.encode(vm.getRecordedLogs())), single);
    }

    // ------------------------------------------------------------------ rejected: all or nothing

    function _rejectedNothingChanged(ToggleBatchVerifier.Mode mode, bytes memory err) internal {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        batchVerifier.setMode(mode);
        uint256 bonds = stakes.totalBonds();
        vm.prank(node);
        vm.expectRevert(err);
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _assertOpen(a, ida);
        _assertOpen(b, idb);
        assertEq(stakes.totalBonds(), bonds);
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE);
        // Each demand may still be answered on its own.
        batchVerifier.setMode(ToggleBatchVerifier.Mode.Accept);
        vm.prank(node);
        assertTrue(proofs.submitProof(ida, _partitionIO(a, 2, 3), PROOF));
        _solvent();
    }

    function test_batch_false_reverts_BatchProofRejected_nothingChanged() public {
        _rejectedNothingChanged(
            ToggleBatchVerifier.Mode.Reject, abi.encodeWithSelector(ProofDemandGame.BatchProofRejected.selector)
        );
    }

    function test_batch_revertWithData_reverts_BatchProofRejected() public {
        _rejectedNothingChanged(
            ToggleBatchVerifier.Mode.Revert, abi.encodeWithSelector(ProofDemandGame.BatchProofRejected.selector)
        );
    }

    function test_batch_statementMismatch_isRejected() public {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        // The double pins the statement with the instances swapped.
        batchVerifier.expectStatement(keccak256(abi.encode(_batchStatement(b, a, idb, ida))));
        vm.prank(node);
        vm.expectRevert(ProofDemandGame.BatchProofRejected.selector);
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _submit(_ids(idb, ida), _ios(b, a));
        assertTrue(proofs.getDemand(ida).status == ProofDemandGame.Status.Proven);
    }

    function test_batch_outOfGas_reverts_VerifierOutOfGas() public {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        batchVerifier.setMode(ToggleBatchVerifier.Mode.BurnAllGas);
        ProofDemandGame.PartitionIO[] memory ios = _ios(a, b);
        uint256[] memory ids = _ids(ida, idb);
        vm.prank(node);
        vm.expectRevert(ProofDemandGame.VerifierOutOfGas.selector);
        proofs.submitProofs{gas: 600_000}(ids, ios, PROOF);
        _assertOpen(a, ida);
        _assertOpen(b, idb);
    }

    function test_batch_notEnoughGas_reverts_VerifierOutOfGas() public {
        _rejectedNothingChanged(
            ToggleBatchVerifier.Mode.NotEnoughGas, abi.encodeWithSelector(ProofDemandGame.VerifierOutOfGas.selector)
        );
    }

    function test_batch_revertWithoutData_NotBatchVerifier() public {
        _rejectedNothingChanged(
            ToggleBatchVerifier.Mode.RevertNoData,
            abi.encodeWithSelector(ProofDemandGame.NotBatchVerifier.selector, address(batchVerifier))
        );
    }

    function test_revert_NotBatchVerifier_singleProofVerifier() public {
        // The fixture's sensitive model: its partition verifier (ToggleVerifier) has no verifyBatchProof.
        Made memory a = _honestBatchClaim(_sensitiveSpec(), sensitiveModel, node, 121);
        Made memory b = _honestBatchClaim(_sensitiveSpec(), sensitiveModel, node, 122);
        uint256 ida = _demand(a, 1);
        uint256 idb = _demand(b, 1);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotBatchVerifier.selector, address(verifier)));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _assertOpen(a, ida);
        _assertOpen(b, idb);
    }

    function test_revert_NotBatchVerifier_garbageOrEmptyAnswer() public {
        GarbageVerifier g = new GarbageVerifier();
        ModelSpec memory s = _batchSpec();
        s.verifiers[1] = address(g);
        s.seed = BATCH_SEED + 1;
        bytes32 model = _register(s, owner);
        Made memory a = _honestBatchClaim(s, model, node, 181);
        Made memory b = _honestBatchClaim(s, model, node, 182);
        uint256 ida = _demand(a, 1);
        uint256 idb = _demand(b, 1);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotBatchVerifier.selector, address(g)));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        g.setSilent(true);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotBatchVerifier.selector, address(g)));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _assertOpen(a, ida);
        _assertOpen(b, idb);
    }

    // ------------------------------------------------------------------ batch shape

    function test_revert_EmptyBatch() public {
        vm.prank(node);
        vm.expectRevert(ProofDemandGame.EmptyBatch.selector);
        proofs.submitProofs(new uint256[](0), new ProofDemandGame.PartitionIO[](0), PROOF);
    }

    function test_revert_BatchLengthMismatch() public {
        (Made memory a,, uint256 ida, uint256 idb) = _two();
        ProofDemandGame.PartitionIO[] memory ios = new ProofDemandGame.PartitionIO[](1);
        ios[0] = _partitionIO(a, 2, 3);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.BatchLengthMismatch.selector, 2, 1));
        proofs.submitProofs(_ids(ida, idb), ios, PROOF);
    }

    function test_revert_DuplicateDemand() public {
        (Made memory a,, uint256 ida,) = _two();
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DuplicateDemand.selector, ida));
        proofs.submitProofs(_ids(ida, ida), _ios(a, a), PROOF);
        _assertOpen(a, ida);
    }

    function test_revert_MixedBatch_otherModel() public {
        Made memory a = _claim(131);
        Made memory b = _honestBatchClaim(_sensitiveSpec(), sensitiveModel, node, 132);
        uint256 ida = _demand(a, 1);
        uint256 idb = _demand(b, 1);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.MixedBatch.selector, idb));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _assertOpen(a, ida);
    }

    function test_revert_MixedBatch_otherPartition() public {
        Made memory a = _claim(141);
        uint256 id1 = _demand(a, 1);
        uint256 id0 = _demand(a, 0);
        ProofDemandGame.PartitionIO[] memory ios = new ProofDemandGame.PartitionIO[](2);
        ios[0] = _partitionIO(a, 2, 3);
        ios[1] = _partitionIO(a, 1, 1);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.MixedBatch.selector, id0));
        proofs.submitProofs(_ids(id1, id0), ios, PROOF);
        _assertOpen(a, id1);
        _assertOpen(a, id0);
    }

    function test_revert_NotClaimNode_nonNodeCaller() public {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotClaimNode.selector, challenger));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
    }

    function test_revert_NotClaimNode_otherNodesClaim() public {
        // A batch may only hold the caller's claims: node2's demand in node's batch is refused.
        _serve(node2, batchModel);
        Made memory a = _claim(151);
        Made memory b = _honestBatchClaim(_batchSpec(), batchModel, node2, 152);
        uint256 ida = _demand(a, 1);
        uint256 idb = _demand(b, 1);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.NotClaimNode.selector, node));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _assertOpen(a, ida);
        _assertOpen(b, idb);
    }

    function test_revert_DeadlinePassed_oneDemand_allOrNothing() public {
        Made memory a = _claim(161);
        Made memory b = _claim(162);
        uint256 ida = _demand(a, 1);
        uint64 deadlineA = proofs.getDemand(ida).deadline;
        vm.warp(block.timestamp + 30 minutes);
        uint256 idb = _demand(b, 1);
        vm.warp(deadlineA + 1);
        // b first (in time), then a (late): the whole batch reverts, b stays open.
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DeadlinePassed.selector, deadlineA));
        proofs.submitProofs(_ids(idb, ida), _ios(b, a), PROOF);
        _assertOpen(b, idb);
        // a times out (slash), b can still be answered.
        assertEq(proofs.resolveTimeout(ida), 5 ether);
        ProofDemandGame.PartitionIO[] memory ios = new ProofDemandGame.PartitionIO[](1);
        ios[0] = _partitionIO(b, 2, 3);
        uint256[] memory ids = new uint256[](1);
        ids[0] = idb;
        _submit(ids, ios);
        assertTrue(proofs.getDemand(idb).status == ProofDemandGame.Status.Proven);
        _solvent();
    }

    function test_revert_DemandNotOpen_inBatch() public {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        vm.prank(node);
        assertTrue(proofs.submitProof(idb, _partitionIO(b, 2, 3), PROOF));
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(ProofDemandGame.DemandNotOpen.selector, idb));
        proofs.submitProofs(_ids(ida, idb), _ios(a, b), PROOF);
        _assertOpen(a, ida);
    }

    function test_revert_InvalidTraceProof_secondInstance() public {
        (Made memory a, Made memory b, uint256 ida, uint256 idb) = _two();
        ProofDemandGame.PartitionIO[] memory ios = _ios(a, b);
        ios[1].output = a.h[3]; // a's output does not belong to b's trace (different inputs)
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 3));
        proofs.submitProofs(_ids(ida, idb), ios, PROOF);
        _assertOpen(a, ida);
        _assertOpen(b, idb);
    }

    function test_submitProof_unchanged_withBatchVerifier() public {
        // submitProof keeps its behaviour on a batch-capable verifier: false slashes.
        Made memory a = _claim(171);
        uint256 id = _demand(a, 1);
        batchVerifier.setMode(ToggleBatchVerifier.Mode.Reject);
        vm.prank(node);
        assertFalse(proofs.submitProof(id, _partitionIO(a, 2, 3), PROOF));
        assertTrue(proofs.getDemand(id).status == ProofDemandGame.Status.Rejected);
        assertTrue(market.fraudulent(market.authenticate(a.ref).key));
        _solvent();
    }
}
