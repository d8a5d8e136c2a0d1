// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DisputeGameRoles} from "../src/DisputeGameRoles.sol";
import {InferenceMarket} from "../src/InferenceMarket.sol";
import {MarketParamsLib} from "../src/lib/MarketParamsLib.sol";
import {Claim, ClaimRef, ClaimSource, MarketParams, Receipt} from "../src/lib/Types.sol";
import {EtherRejecter} from "./doubles/EtherRejecter.sol";
import {Fixture} from "./utils/Fixture.sol";
import {MerkleBuilder, RefMath} from "./utils/TestLib.sol";

contract InferenceMarketTest is Fixture {
    address internal node3;
    bytes internal constant IN4 = hex"01fe7f80";

    function setUp() public override {
        super.setUp();
        node3 = makeAddr("node3");
        _stake(node, NODE_STAKE);
        _stake(node2, NODE_STAKE);
        _stake(node3, NODE_STAKE);
    }

    function _solvent() internal view {
        assertEq(address(market).balance, market.totalEscrow() + market.totalCredits(), "market solvency");
    }

    function _one(uint256 id) internal pure returns (uint256[] memory a) {
        a = new uint256[](1);
        a[0] = id;
    }

    function _fulfilRaw(address who, uint256 id, bytes memory output, bytes32 root) internal {
        uint256[] memory ids = _one(id);
        bytes[] memory outs = new bytes[](1);
        outs[0] = output;
        bytes32[] memory roots = new bytes32[](1);
        roots[0] = root;
        vm.prank(who);
        market.fulfil(ids, outs, roots);
    }

    function _fulfilRawExpect(address who, uint256 id, bytes memory err) internal {
        uint256[] memory ids = _one(id);
        bytes[] memory outs = new bytes[](1);
        outs[0] = hex"0102";
        bytes32[] memory roots = new bytes32[](1);
        roots[0] = bytes32(uint256(1));
        vm.prank(who);
        vm.expectRevert(err);
        market.fulfil(ids, outs, roots);
    }

    // ------------------------------------------------------------------ deployment and wiring

    function test_constructor() public view {
        assertEq(address(market.registry()), address(registry));
        assertEq(address(market.stakes()), address(stakes));
        assertEq(market.deployer(), address(this));
        assertEq(market.challengeWindow(), 1 hours);
        assertEq(market.requestTimeout(), 10 minutes);
        assertEq(market.minRequestFee(), 0.001 ether);
        assertTrue(market.wired());
        assertTrue(market.isDisputeGame(address(fraud)));
        assertTrue(market.isDisputeGame(address(da)));
        assertTrue(market.isDisputeGame(address(proofs)));
    }

    function test_constructor_validatesParams() public {
        MarketParams memory p = _preset();
        p.requestTimeout = 0;
        vm.expectRevert(abi.encodeWithSelector(MarketParamsLib.ZeroWindow.selector));
        new InferenceMarket(registry, stakes, p);
    }

    function test_wire_onceByDeployer() public {
        InferenceMarket m = new InferenceMarket(registry, stakes, params);
        address[] memory games = new address[](1);
        games[0] = address(0xA);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.NotDeployer.selector, node));
        m.wireDisputeGames(games);
        vm.expectEmit(false, false, false, true, address(m));
        emit DisputeGameRoles.DisputeGamesWired(games);
        m.wireDisputeGames(games);
        assertTrue(m.isDisputeGame(address(0xA)));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.AlreadyWired.selector));
        m.wireDisputeGames(games);
    }

    function test_revert_NotDisputeGame() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 1);
        bytes memory err = abi.encodeWithSelector(DisputeGameRoles.NotDisputeGame.selector, address(this));
        vm.expectRevert(err);
        market.beginDispute(m.ref);
        vm.expectRevert(err);
        market.recordFraud(m.ref);
        Claim memory c = market.authenticate(m.ref);
        vm.expectRevert(err);
        market.endDispute(c, true);
    }

    // ------------------------------------------------------------------ batches

    function test_commitBatch_andView() public {
        bytes32 root = keccak256("root");
        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.BatchCommitted(1, node, root, 7);
        uint256 id = _commit(node, root, 7);
        assertEq(id, 1);
        assertEq(market.batchCount(), 1);
        InferenceMarket.Batch memory b = market.batch(1);
        assertEq(b.root, root);
        assertEq(b.node, node);
        assertEq(b.count, 7);
        assertEq(b.committedAt, block.timestamp);
        assertTrue(b.status == InferenceMarket.BatchStatus.Committed);
        assertEq(_commit(node2, root, 1), 2);
    }

    function test_revert_commitBatch_NodeNotActive() public {
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NodeNotActive.selector, stranger));
        market.commitBatch(keccak256("r"), 1);
        // Just below the minimum stake.
        _stake(stranger, 10 ether - 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NodeNotActive.selector, stranger));
        market.commitBatch(keccak256("r"), 1);
        _stake(stranger, 1);
        _commit(stranger, keccak256("r"), 1);
    }

    function test_revert_commitBatch_EmptyBatch() public {
        vm.startPrank(node);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.EmptyBatch.selector));
        market.commitBatch(bytes32(0), 1);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.EmptyBatch.selector));
        market.commitBatch(keccak256("r"), 0);
        vm.stopPrank();
    }

    function test_finalizeBatch_afterWindow() public {
        uint256 id = _commit(node, keccak256("r"), 1);
        uint64 windowEnd = uint64(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowOpen.selector, windowEnd));
        market.finalizeBatch(id);
        vm.warp(windowEnd - 1);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowOpen.selector, windowEnd));
        market.finalizeBatch(id);
        vm.warp(windowEnd);
        vm.expectEmit(true, false, false, true, address(market));
        emit InferenceMarket.BatchFinalized(id);
        market.finalizeBatch(id);
        assertTrue(market.batch(id).status == InferenceMarket.BatchStatus.Finalized);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.BatchAlreadyFinalized.selector, id));
        market.finalizeBatch(id);
    }

    function test_revert_UnknownBatch() public {
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownBatch.selector, 0));
        market.finalizeBatch(0);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownBatch.selector, 5));
        market.batch(5);
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 1);
        m.ref.containerId = 5;
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownBatch.selector, 5));
        market.authenticate(m.ref);
    }

    /// @notice An open dispute keeps the batch from finalizing; once it closes, the batch finalizes.
    function test_finalizeBatch_blockedByOpenDispute() public {
        ModelSpec memory s = _publicSpec();
        Made memory m = _honestBatchClaim(s, publicModel, node, 1);
        uint256 batchId = m.ref.containerId;
        vm.warp(block.timestamp + 1 hours - 1);
        vm.prank(challenger);
        uint256 cid = da.challenge{value: 0.1 ether}(m.ref, 1);
        assertEq(market.openDisputes(ClaimSource.Batch, batchId), 1);
        vm.warp(block.timestamp + 20 minutes); // past the challenge window, dispute still open
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.DisputesOpen.selector, 1));
        market.finalizeBatch(batchId);
        da.publish(cid, m.h[1], _traceProof(m, 1));
        assertEq(market.openDisputes(ClaimSource.Batch, batchId), 0);
        market.finalizeBatch(batchId);
        assertTrue(market.batch(batchId).status == InferenceMarket.BatchStatus.Finalized);
    }

    // ------------------------------------------------------------------ authentication

    function test_authenticate_batchClaim() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 1);
        Claim memory c = market.authenticate(m.ref);
        assertEq(c.key, keccak256(abi.encode(ClaimSource.Batch, m.ref.containerId, RefMath.receiptLeaf(m.ref.receipt))));
        assertTrue(c.source == ClaimSource.Batch);
        assertEq(c.containerId, m.ref.containerId);
        assertEq(c.node, node);
        assertEq(c.modelId, publicModel);
        assertEq(c.traceRoot, m.ref.receipt.traceRoot);
        assertEq(c.windowEnd, block.timestamp + 1 hours);
    }

    function test_revert_authenticate_InvalidClaim_batch() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 1);
        bytes memory err = abi.encodeWithSelector(InferenceMarket.InvalidClaim.selector);
        ClaimRef memory r = m.ref;
        r.receipt.outputHash = bytes32(uint256(1)); // a field changed: not in the tree
        vm.expectRevert(err);
        market.authenticate(r);
        r = _honestBatchClaim(_publicSpec(), publicModel, node, 1).ref;
        r.inclusionProof[0] = bytes32(uint256(2)); // wrong proof
        vm.expectRevert(err);
        market.authenticate(r);
        // A leaf of node's batch that names another node.
        Receipt memory rc = m.ref.receipt;
        rc.node = node2;
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = RefMath.receiptLeaf(rc);
        uint256 bid = _commit(node, leaves[0], 1);
        vm.expectRevert(err);
        market.authenticate(ClaimRef(ClaimSource.Batch, bid, new bytes32[](0), rc));
    }

    function test_authenticate_requestClaim_andInvalidFields() public {
        ModelSpec memory s = _publicSpec();
        _serve(node, publicModel);
        (Made memory m, uint256 id) = _requestAndFulfil(s, publicModel, node, _forward(s, IN4));
        Claim memory c = market.authenticate(m.ref);
        assertEq(c.key, keccak256(abi.encode(ClaimSource.Request, id, RefMath.receiptLeaf(m.ref.receipt))));
        assertEq(c.windowEnd, block.timestamp + 1 hours);
        assertEq(c.node, node);

        bytes memory err = abi.encodeWithSelector(InferenceMarket.InvalidClaim.selector);
        for (uint256 f; f < 7; ++f) {
            ClaimRef memory r = m.ref;
            Receipt memory rc = Receipt(
                r.receipt.requestId,
                r.receipt.modelId,
                r.receipt.inputHash,
                r.receipt.outputHash,
                r.receipt.traceRoot,
                r.receipt.node,
                r.receipt.client
            );
            if (f == 0) rc.requestId = id + 1;
            if (f == 1) rc.modelId = sensitiveModel;
            if (f == 2) rc.inputHash = bytes32(uint256(1));
            if (f == 3) rc.outputHash = bytes32(uint256(1));
            if (f == 4) rc.traceRoot = bytes32(uint256(1));
            if (f == 5) rc.node = node2;
            if (f == 6) rc.client = challenger;
            vm.expectRevert(err);
            market.authenticate(ClaimRef(ClaimSource.Request, id, new bytes32[](0), rc));
        }
    }

    function test_revert_authenticate_pendingOrUnknownRequest() public {
        _serve(node, publicModel);
        uint256 id = _requestInference(client, publicModel, IN4);
        Receipt memory rc;
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id, InferenceMarket.RequestStatus.Pending
            )
        );
        market.authenticate(ClaimRef(ClaimSource.Request, id, new bytes32[](0), rc));
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownRequest.selector, id + 1));
        market.authenticate(ClaimRef(ClaimSource.Request, id + 1, new bytes32[](0), rc));
    }

    // ------------------------------------------------------------------ serving

    function test_serve_stop_list() public {
        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.ServingChanged(publicModel, node, true);
        _serve(node, publicModel);
        _serve(node2, publicModel);
        _serve(node3, publicModel);
        address[] memory sv = market.servers(publicModel);
        assertEq(sv.length, 3);
        assertEq(sv[0], node);
        assertEq(sv[2], node3);

        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ServingUnchanged.selector, publicModel, node2));
        vm.prank(node2);
        market.serveModel(publicModel);

        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.ServingChanged(publicModel, node, false);
        vm.prank(node);
        market.stopServing(publicModel); // swap-and-pop: [node3, node2]
        sv = market.servers(publicModel);
        assertEq(sv.length, 2);
        assertEq(sv[0], node3);
        assertEq(sv[1], node2);
        vm.prank(node2);
        market.stopServing(publicModel); // last element
        sv = market.servers(publicModel);
        assertEq(sv.length, 1);
        assertEq(sv[0], node3);

        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ServingUnchanged.selector, publicModel, node));
        vm.prank(node);
        market.stopServing(publicModel);
        // Serving again works after stopping.
        _serve(node, publicModel);
        assertEq(market.servers(publicModel).length, 2);
        vm.prank(node3);
        market.stopServing(publicModel);
        vm.prank(node);
        market.stopServing(publicModel);
        assertEq(market.servers(publicModel).length, 0);
    }

    function test_revert_serveModel_NodeNotActive_UnknownModel() public {
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NodeNotActive.selector, stranger));
        market.serveModel(publicModel);
        bytes32 unknown = keccak256("unknown");
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownModel.selector, unknown));
        market.serveModel(unknown);
    }

    function test_roundRobin_skipsInactive() public {
        _serve(node, publicModel);
        _serve(node2, publicModel);
        _serve(node3, publicModel);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node2);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node3);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node);
        // node2 drops below the minimum stake: skipped.
        vm.prank(node2);
        stakes.requestWithdrawal(11 ether);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node3);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node3);
        // node3 stops serving.
        vm.prank(node3);
        market.stopServing(publicModel);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node);
        assertEq(market.request(_requestInference(client, publicModel, IN4)).node, node);
    }

    function test_revert_NoNodeServing() public {
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NoNodeServing.selector, publicModel));
        market.requestInference{value: FEE}(publicModel, IN4);
        _serve(node, publicModel);
        vm.prank(node);
        stakes.requestWithdrawal(20 ether);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NoNodeServing.selector, publicModel));
        market.requestInference{value: FEE}(publicModel, IN4);
    }

    // ------------------------------------------------------------------ requests

    function test_requestInference_escrowAndEvent() public {
        _serve(node, publicModel);
        uint64 deadline = uint64(block.timestamp + 10 minutes);
        vm.expectEmit(true, true, true, true, address(market));
        emit InferenceMarket.InferenceRequested(1, publicModel, node, client, FEE, deadline, IN4);
        uint256 id = _requestInference(client, publicModel, IN4);
        assertEq(id, 1);
        assertEq(market.requestCount(), 1);
        InferenceMarket.Request memory r = market.request(id);
        assertEq(r.client, client);
        assertEq(r.fee, FEE);
        assertEq(r.node, node);
        assertTrue(r.status == InferenceMarket.RequestStatus.Pending);
        assertEq(r.deadline, deadline);
        assertEq(r.fulfilledAt, 0);
        assertEq(r.modelId, publicModel);
        assertEq(r.inputHash, RefMath.actHash(IN4));
        assertEq(r.resultHash, bytes32(0));
        assertEq(market.totalEscrow(), FEE);
        assertEq(address(market).balance, FEE);
        _solvent();
    }

    function test_revert_requestInference_fees() public {
        _serve(node, publicModel);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.FeeTooLow.selector, 0.001 ether - 1, 0.001 ether));
        market.requestInference{value: 0.001 ether - 1}(publicModel, IN4);
        uint256 big = uint256(type(uint96).max) + 1;
        vm.deal(client, 2 * big);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.FeeTooHigh.selector, big));
        market.requestInference{value: big}(publicModel, IN4);
        // The bounds themselves are accepted.
        vm.prank(client);
        market.requestInference{value: 0.001 ether}(publicModel, IN4);
        vm.prank(client);
        market.requestInference{value: type(uint96).max}(publicModel, IN4);
        _solvent();
    }

    function test_revert_requestInference_UnknownModel_WrongInputLength() public {
        bytes32 unknown = keccak256("unknown");
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownModel.selector, unknown));
        market.requestInference{value: FEE}(unknown, IN4);
        _serve(node, publicModel);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.WrongInputLength.selector, 4, 3));
        market.requestInference{value: FEE}(publicModel, hex"010203");
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.WrongInputLength.selector, 4, 5));
        market.requestInference{value: FEE}(publicModel, hex"0102030405");
    }

    function test_revert_request_UnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownRequest.selector, 1));
        market.request(1);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownRequest.selector, 1));
        market.refundExpired(1);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.UnknownRequest.selector, 1));
        market.finalizeRequests(_one(1));
        _fulfilRawExpect(node, 1, abi.encodeWithSelector(InferenceMarket.UnknownRequest.selector, 1));
    }

    function test_fulfil_manyPerTx() public {
        ModelSpec memory s = _publicSpec();
        _serve(node, publicModel);
        uint256 n = 5;
        uint256[] memory ids = new uint256[](n);
        bytes[] memory outs = new bytes[](n);
        bytes32[] memory roots = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes[] memory h = _forward(s, _input(i, 4));
            ids[i] = _requestInference(client, publicModel, h[0]);
            outs[i] = h[2];
            roots[i] = MerkleBuilder.root(_traceLeaves(_actHashes(s, h)));
        }
        vm.warp(block.timestamp + 10 minutes); // exactly at the deadline: still in time
        for (uint256 i; i < n; ++i) {
            vm.expectEmit(true, true, false, true, address(market));
            emit InferenceMarket.RequestFulfilled(ids[i], node, RefMath.actHash(outs[i]), roots[i], outs[i]);
        }
        vm.prank(node);
        market.fulfil(ids, outs, roots);
        for (uint256 i; i < n; ++i) {
            InferenceMarket.Request memory r = market.request(ids[i]);
            assertTrue(r.status == InferenceMarket.RequestStatus.Fulfilled);
            assertEq(r.fulfilledAt, block.timestamp);
            assertEq(r.resultHash, RefMath.resultHash(RefMath.actHash(outs[i]), roots[i]));
        }
    }

    function test_revert_fulfil_errors() public {
        _serve(node, publicModel);
        uint256 id = _requestInference(client, publicModel, IN4);
        // Length mismatch.
        uint256[] memory ids = _one(id);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.LengthMismatch.selector));
        market.fulfil(ids, new bytes[](2), new bytes32[](1));
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.LengthMismatch.selector));
        market.fulfil(ids, new bytes[](1), new bytes32[](0));
        // Wrong node (active, but not assigned) and inactive node.
        _fulfilRawExpect(node2, id, abi.encodeWithSelector(InferenceMarket.NotAssignedNode.selector, id, node2));
        address stranger = makeAddr("stranger");
        _fulfilRawExpect(stranger, id, abi.encodeWithSelector(InferenceMarket.NodeNotActive.selector, stranger));
        // Fulfilled twice.
        _fulfilRaw(node, id, hex"0102", bytes32(uint256(1)));
        _fulfilRawExpect(
            node,
            id,
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id, InferenceMarket.RequestStatus.Fulfilled
            )
        );
        // The same id twice in one call.
        uint256 id2 = _requestInference(client, publicModel, IN4);
        uint256[] memory twice = new uint256[](2);
        twice[0] = id2;
        twice[1] = id2;
        vm.prank(node);
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id2, InferenceMarket.RequestStatus.Fulfilled
            )
        );
        market.fulfil(twice, new bytes[](2), new bytes32[](2));
        // Expired.
        uint64 deadline = market.request(id2).deadline;
        vm.warp(deadline + 1);
        _fulfilRawExpect(node, id2, abi.encodeWithSelector(InferenceMarket.RequestExpired.selector, id2, deadline));
        // Refunded.
        market.refundExpired(id2);
        _fulfilRawExpect(
            node,
            id2,
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id2, InferenceMarket.RequestStatus.Refunded
            )
        );
    }

    function test_refundExpired() public {
        _serve(node, publicModel);
        uint256 id = _requestInference(client, publicModel, IN4);
        uint64 deadline = market.request(id).deadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.RequestNotExpired.selector, id, deadline));
        market.refundExpired(id);
        vm.warp(deadline + 1);
        vm.expectEmit(true, false, false, true, address(market));
        emit InferenceMarket.Credited(client, FEE);
        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.RequestRefunded(id, client, FEE);
        vm.prank(challenger); // anyone may trigger it
        market.refundExpired(id);
        assertTrue(market.request(id).status == InferenceMarket.RequestStatus.Refunded);
        assertEq(market.credits(client), FEE);
        assertEq(market.totalEscrow(), 0);
        assertEq(market.totalCredits(), FEE);
        _solvent();
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id, InferenceMarket.RequestStatus.Refunded
            )
        );
        market.refundExpired(id);

        uint256 before = client.balance;
        vm.expectEmit(true, false, false, true, address(market));
        emit InferenceMarket.CreditsWithdrawn(client, FEE);
        vm.prank(client);
        market.withdrawCredits();
        assertEq(client.balance, before + FEE);
        assertEq(address(market).balance, 0);
        vm.prank(client);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NothingToWithdraw.selector));
        market.withdrawCredits();
    }

    function test_revert_refundExpired_fulfilled() public {
        _serve(node, publicModel);
        uint256 id = _requestInference(client, publicModel, IN4);
        _fulfilRaw(node, id, hex"0102", bytes32(uint256(1)));
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id, InferenceMarket.RequestStatus.Fulfilled
            )
        );
        market.refundExpired(id);
    }

    function test_finalizeRequests_creditsNode() public {
        _serve(node, publicModel);
        _serve(node2, publicModel);
        uint256 a = _requestInference(client, publicModel, IN4); // node
        uint256 b = _requestInference(client, publicModel, IN4); // node2
        _fulfilRaw(node, a, hex"0102", bytes32(uint256(1)));
        vm.warp(block.timestamp + 5 minutes);
        _fulfilRaw(node2, b, hex"0102", bytes32(uint256(2)));
        uint256[] memory both = new uint256[](2);
        both[0] = a;
        both[1] = b;
        uint64 endB = uint64(block.timestamp + 1 hours);
        vm.warp(endB - 1); // a's window is over, b's is not: nothing happens
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowOpen.selector, endB));
        market.finalizeRequests(both);
        assertTrue(market.request(a).status == InferenceMarket.RequestStatus.Fulfilled);
        vm.warp(endB);
        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.RequestFinalized(a, node, FEE);
        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.RequestFinalized(b, node2, FEE);
        market.finalizeRequests(both);
        assertEq(market.credits(node), FEE);
        assertEq(market.credits(node2), FEE);
        assertEq(market.totalEscrow(), 0);
        assertTrue(market.request(a).status == InferenceMarket.RequestStatus.Finalized);
        _solvent();
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, a, InferenceMarket.RequestStatus.Finalized
            )
        );
        market.finalizeRequests(_one(a));
        uint256 before = node.balance;
        vm.prank(node);
        market.withdrawCredits();
        assertEq(node.balance, before + FEE);
        _solvent();
    }

    function test_revert_finalizeRequests_pending() public {
        _serve(node, publicModel);
        uint256 id = _requestInference(client, publicModel, IN4);
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id, InferenceMarket.RequestStatus.Pending
            )
        );
        market.finalizeRequests(_one(id));
    }

    function test_finalizeRequests_blockedByOpenDispute() public {
        ModelSpec memory s = _publicSpec();
        _serve(node, publicModel);
        (Made memory m, uint256 id) = _requestAndFulfil(s, publicModel, node, _forward(s, IN4));
        vm.prank(challenger);
        uint256 cid = da.challenge{value: 0.1 ether}(m.ref, 1);
        assertEq(market.openDisputes(ClaimSource.Request, id), 1);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.DisputesOpen.selector, 1));
        market.finalizeRequests(_one(id));
        vm.warp(block.timestamp - 35 minutes); // back inside the response window
        da.publish(cid, m.h[1], _traceProof(m, 1));
        vm.warp(block.timestamp + 35 minutes);
        market.finalizeRequests(_one(id));
        assertEq(market.credits(node), FEE);
    }

    function test_revert_withdrawCredits_TransferFailed() public {
        EtherRejecter r = new EtherRejecter();
        vm.deal(address(r), 1 ether);
        _serve(node, publicModel);
        bytes memory ret =
            r.exec(address(market), FEE, abi.encodeCall(InferenceMarket.requestInference, (publicModel, IN4)));
        uint256 id = abi.decode(ret, (uint256));
        vm.warp(block.timestamp + 11 minutes);
        market.refundExpired(id);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.TransferFailed.selector, address(r), FEE));
        r.exec(address(market), 0, abi.encodeCall(InferenceMarket.withdrawCredits, ()));
        assertEq(market.credits(address(r)), FEE);
        r.setReject(false);
        r.exec(address(market), 0, abi.encodeCall(InferenceMarket.withdrawCredits, ()));
        assertEq(address(r).balance, 1 ether);
        _solvent();
    }

    // ------------------------------------------------------------------ disputes bookkeeping

    function test_dispute_windowClosedAndAlreadySlashed() public {
        ModelSpec memory s = _publicSpec();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(3, 4), 2, 1));
        Claim memory c = market.authenticate(m.ref);
        vm.warp(c.windowEnd);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowClosed.selector, c.windowEnd));
        da.challenge{value: 0.1 ether}(m.ref, 1);
        vm.warp(c.windowEnd - 1);
        vm.expectEmit(true, false, true, true, address(market));
        emit InferenceMarket.DisputeOpened(c.key, ClaimSource.Batch, m.ref.containerId, address(da));
        vm.prank(challenger);
        uint256 cid = da.challenge{value: 0.1 ether}(m.ref, 1);
        vm.prank(challenger);
        fraud.proveLayerFraud(m.ref, _layerFraud(s, m, 2, 1));
        assertTrue(market.fraudulent(c.key));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ClaimAlreadySlashed.selector, c.key));
        da.challenge{value: 0.1 ether}(m.ref, 0);
        // The open DA challenge still closes normally, without a second slash.
        vm.warp(c.windowEnd + 30 minutes);
        vm.expectEmit(true, false, true, true, address(market));
        emit InferenceMarket.DisputeClosed(c.key, ClaimSource.Batch, m.ref.containerId, address(da), true);
        assertEq(da.resolveTimeout(cid), 0);
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 0);
    }
}
