// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakeManager} from "../src/StakeManager.sol";
import {InferenceMarket} from "../src/InferenceMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {DataAvailabilityGame} from "../src/disputes/DataAvailabilityGame.sol";
import {DisputeGameBase} from "../src/disputes/DisputeGameBase.sol";
import {Claim, ClaimSource} from "../src/lib/Types.sol";
import {Fixture} from "./utils/Fixture.sol";

contract DataAvailabilityGameTest is Fixture {
    uint256 internal constant BOND = 0.1 ether;

    function setUp() public override {
        super.setUp();
        _stake(node, NODE_STAKE);
    }

    function _challenge(Made memory m, uint32 index) internal returns (uint256) {
        vm.prank(challenger);
        return da.challenge{value: BOND}(m.ref, index);
    }

    function _solvent() internal view {
        assertEq(
            address(stakes).balance,
            stakes.totalActiveStake() + stakes.totalPendingWithdrawals() + stakes.totalBonds() + stakes.totalCredits()
        );
        assertEq(address(market).balance, market.totalEscrow() + market.totalCredits());
    }

    function test_challenge_locksBond() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 1);
        Claim memory c = market.authenticate(m.ref);
        uint64 deadline = uint64(block.timestamp + 30 minutes);
        vm.expectEmit(true, false, false, true, address(stakes));
        emit StakeManager.BondLocked(challenger, BOND);
        vm.expectEmit(true, true, true, true, address(da));
        emit DataAvailabilityGame.DataChallenged(1, c.key, node, challenger, 1, deadline);
        uint256 id = _challenge(m, 1);
        assertEq(id, 1);
        assertEq(da.challengeCount(), 1);
        DataAvailabilityGame.DataChallenge memory ch = da.getChallenge(id);
        assertEq(ch.claim.key, c.key);
        assertEq(ch.claim.node, node);
        assertEq(ch.challenger, challenger);
        assertEq(ch.index, 1);
        assertEq(ch.deadline, deadline);
        assertTrue(ch.status == DataAvailabilityGame.Status.Open);
        assertEq(da.openChallengeOf(c.key, 1), id);
        assertEq(stakes.bondsOf(challenger), BOND);
        assertEq(stakes.totalBonds(), BOND);
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 1);
        _solvent();
    }

    function test_publish_bondToNode() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 2);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _challenge(m, 1);
        vm.warp(block.timestamp + 30 minutes); // at the deadline: still in time
        vm.expectEmit(true, true, false, true, address(stakes));
        emit StakeManager.BondReleased(challenger, node, BOND);
        vm.expectEmit(true, true, false, true, address(da));
        emit DataAvailabilityGame.DataPublished(id, key, 1, m.h[1]);
        vm.prank(node2); // anyone may publish
        da.publish(id, m.h[1], _traceProof(m, 1));
        assertTrue(da.getChallenge(id).status == DataAvailabilityGame.Status.Published);
        assertEq(da.openChallengeOf(key, 1), 0);
        assertEq(stakes.credits(node), BOND);
        assertEq(stakes.bondsOf(challenger), 0);
        assertEq(stakes.totalBonds(), 0);
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 0);
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE);
        assertFalse(market.fraudulent(key));
        _solvent();
        // Closed: cannot be published or timed out again.
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.ChallengeNotOpen.selector, id));
        da.publish(id, m.h[1], _traceProof(m, 1));
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.ChallengeNotOpen.selector, id));
        da.resolveTimeout(id);
        // The node withdraws the bond it earned.
        uint256 before = node.balance;
        vm.prank(node);
        stakes.withdrawCredits();
        assertEq(node.balance, before + BOND);
    }

    function test_publish_inputAndOutputEntries() public {
        ModelSpec memory s = _sensitiveSpec();
        Made memory m = _honestBatchClaim(s, sensitiveModel, node, 3);
        uint32[4] memory idx = [uint32(0), 1, 3, 4];
        for (uint256 i; i < 4; ++i) {
            uint256 id = _challenge(m, idx[i]);
            da.publish(id, m.h[idx[i]], _traceProof(m, idx[i]));
        }
        assertEq(stakes.credits(node), 4 * BOND);
    }

    function test_timeout_slashesAndReturnsBond() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 4);
        bytes32 key = market.authenticate(m.ref).key;
        uint256 id = _challenge(m, 2);
        uint64 deadline = uint64(block.timestamp + 30 minutes);
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.DeadlineNotPassed.selector, deadline));
        da.resolveTimeout(id);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.DeadlinePassed.selector, deadline));
        da.publish(id, m.h[2], _traceProof(m, 2));
        uint256 burnBefore = BURN.balance;
        vm.expectEmit(true, true, false, true, address(da));
        emit DataAvailabilityGame.DataChallengeTimedOut(id, key, 5 ether);
        vm.prank(node2); // anyone may resolve
        assertEq(da.resolveTimeout(id), 5 ether);
        assertTrue(da.getChallenge(id).status == DataAvailabilityGame.Status.TimedOut);
        assertTrue(market.fraudulent(key));
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 0);
        assertEq(da.openChallengeOf(key, 2), 0);
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
        assertEq(stakes.credits(challenger), 2.5 ether + BOND);
        assertEq(BURN.balance - burnBefore, 2.5 ether);
        assertEq(stakes.totalBonds(), 0);
        _solvent();
        // The claim is slashed: no new dispute on it.
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ClaimAlreadySlashed.selector, key));
        da.challenge{value: BOND}(m.ref, 1);
    }

    function test_twoChallengesOneClaim_slashOnce() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 5);
        uint256 a = _challenge(m, 1);
        uint256 b = _challenge(m, 2);
        assertEq(market.openDisputes(ClaimSource.Batch, m.ref.containerId), 2);
        vm.warp(block.timestamp + 31 minutes);
        assertEq(da.resolveTimeout(a), 5 ether);
        assertEq(da.resolveTimeout(b), 0);
        assertEq(stakes.credits(challenger), 2.5 ether + 2 * BOND);
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
        vm.warp(block.timestamp + 1 hours);
        market.finalizeBatch(m.ref.containerId);
        _solvent();
    }

    function test_timeoutOnRequest_refundsClient() public {
        ModelSpec memory s = _publicSpec();
        _serve(node, publicModel);
        (Made memory m, uint256 rid) = _requestAndFulfil(s, publicModel, node, _forward(s, _input(6, 4)));
        uint256 id = _challenge(m, 1);
        vm.warp(block.timestamp + 31 minutes);
        assertEq(da.resolveTimeout(id), 5 ether);
        assertTrue(market.request(rid).status == InferenceMarket.RequestStatus.Slashed);
        assertEq(market.credits(client), FEE);
        assertEq(market.totalEscrow(), 0);
        _solvent();
    }

    function test_publishOnRequest_thenFinalize() public {
        ModelSpec memory s = _publicSpec();
        _serve(node, publicModel);
        (Made memory m, uint256 rid) = _requestAndFulfil(s, publicModel, node, _forward(s, _input(7, 4)));
        uint256 id = _challenge(m, 0);
        da.publish(id, m.h[0], _traceProof(m, 0));
        vm.warp(block.timestamp + 1 hours);
        uint256[] memory ids = new uint256[](1);
        ids[0] = rid;
        market.finalizeRequests(ids);
        assertEq(market.credits(node), FEE);
        assertEq(stakes.credits(node), BOND);
        _solvent();
    }

    function test_rechallengeAfterPublish() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 8);
        uint256 a = _challenge(m, 1);
        da.publish(a, m.h[1], _traceProof(m, 1));
        uint256 b = _challenge(m, 1);
        assertEq(b, a + 1);
    }

    // ------------------------------------------------------------------ reverts

    function test_revert_WrongBond() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 9);
        vm.startPrank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.WrongBond.selector, 0, BOND));
        da.challenge(m.ref, 1);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.WrongBond.selector, BOND + 1, BOND));
        da.challenge{value: BOND + 1}(m.ref, 1);
        vm.stopPrank();
    }

    function test_revert_NotPublicTraceIndex() public {
        Made memory m = _honestBatchClaim(_sensitiveSpec(), sensitiveModel, node, 10);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.NotPublicTraceIndex.selector, 2));
        da.challenge{value: BOND}(m.ref, 2);
        // Beyond the last entry: the registry's UnknownLayer.
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, sensitiveModel, 5));
        da.challenge{value: BOND}(m.ref, 5);
    }

    function test_revert_ChallengeAlreadyOpen() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 11);
        uint256 id = _challenge(m, 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.ChallengeAlreadyOpen.selector, id));
        da.challenge{value: BOND}(m.ref, 1);
        // Another challenger, same claim and index: also refused.
        vm.deal(node2, 1 ether);
        vm.prank(node2);
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.ChallengeAlreadyOpen.selector, id));
        da.challenge{value: BOND}(m.ref, 1);
    }

    function test_revert_ChallengeNotOpen_unknown() public {
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.ChallengeNotOpen.selector, 7));
        da.publish(7, hex"", new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(DataAvailabilityGame.ChallengeNotOpen.selector, 0));
        da.resolveTimeout(0);
    }

    function test_revert_publish_InvalidTraceProof() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 12);
        uint256 id = _challenge(m, 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 1));
        da.publish(id, m.h[2], _traceProof(m, 1));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 1));
        da.publish(id, m.h[1], _traceProof(m, 2));
    }

    function test_revert_challenge_windowClosed() public {
        Made memory m = _honestBatchClaim(_publicSpec(), publicModel, node, 13);
        uint64 end = uint64(block.timestamp + 1 hours);
        vm.warp(end);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowClosed.selector, end));
        da.challenge{value: BOND}(m.ref, 1);
    }

    function test_immutables() public view {
        assertEq(da.bond(), BOND);
        assertEq(da.responseWindow(), 30 minutes);
        assertEq(da.slashAmount(), 5 ether);
    }
}
