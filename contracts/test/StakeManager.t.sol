// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DisputeGameRoles} from "../src/DisputeGameRoles.sol";
import {StakeManager} from "../src/StakeManager.sol";
import {FraudProofGame} from "../src/disputes/FraudProofGame.sol";
import {MarketParamsLib} from "../src/lib/MarketParamsLib.sol";
import {MarketParams} from "../src/lib/Types.sol";
import {EtherRejecter} from "./doubles/EtherRejecter.sol";
import {Fixture} from "./utils/Fixture.sol";

contract StakeManagerTest is Fixture {
    /// @dev A StakeManager on which this test contract is the (only) dispute game.
    StakeManager internal sm;

    function setUp() public override {
        super.setUp();
        sm = new StakeManager(params);
        address[] memory games = new address[](1);
        games[0] = address(this);
        sm.wireDisputeGames(games);
    }

    function _solvent(StakeManager s) internal view {
        assertEq(
            address(s).balance,
            s.totalActiveStake() + s.totalPendingWithdrawals() + s.totalBonds() + s.totalCredits(),
            "stake manager solvency"
        );
    }

    function _smStake(address who, uint256 amount) internal {
        vm.deal(who, who.balance + amount);
        vm.prank(who);
        sm.stake{value: amount}();
    }

    // ------------------------------------------------------------------ wiring

    function test_constructor_copiesParams() public view {
        assertEq(stakes.deployer(), address(this));
        assertEq(stakes.minNodeStake(), 10 ether);
        assertEq(stakes.withdrawalDelay(), 3 hours);
        assertEq(stakes.challengerRewardBps(), 5000);
        assertTrue(stakes.wired());
        assertTrue(stakes.isDisputeGame(address(fraud)));
        assertTrue(stakes.isDisputeGame(address(da)));
        assertTrue(stakes.isDisputeGame(address(proofs)));
        assertFalse(stakes.isDisputeGame(address(market)));
        assertEq(stakes.BURN_ADDRESS(), BURN);
    }

    function test_constructor_validatesParams() public {
        MarketParams memory p = _preset();
        p.withdrawalDelay = 2 hours; // == challengeWindow + proofResponseWindow
        vm.expectRevert(
            abi.encodeWithSelector(MarketParamsLib.WithdrawalDelayTooShort.selector, uint64(2 hours), uint64(2 hours))
        );
        new StakeManager(p);
    }

    function test_wire_emitsAndOnce() public {
        StakeManager s = new StakeManager(params);
        address[] memory games = new address[](2);
        games[0] = address(0xA);
        games[1] = address(0xB);
        vm.expectEmit(false, false, false, true, address(s));
        emit DisputeGameRoles.DisputeGamesWired(games);
        s.wireDisputeGames(games);
        assertTrue(s.isDisputeGame(address(0xA)));
        assertTrue(s.isDisputeGame(address(0xB)));
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.AlreadyWired.selector));
        s.wireDisputeGames(games);
    }

    function test_revert_NotDeployer() public {
        StakeManager s = new StakeManager(params);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.NotDeployer.selector, node));
        s.wireDisputeGames(new address[](0));
        assertFalse(s.wired());
    }

    // ------------------------------------------------------------------ stake

    function test_stake_accumulates() public {
        vm.deal(node, 30 ether);
        vm.expectEmit(true, false, false, true, address(stakes));
        emit StakeManager.Staked(node, 4 ether, 4 ether);
        vm.prank(node);
        stakes.stake{value: 4 ether}();
        assertFalse(stakes.isActiveNode(node));
        vm.expectEmit(true, false, false, true, address(stakes));
        emit StakeManager.Staked(node, 6 ether, 10 ether);
        vm.prank(node);
        stakes.stake{value: 6 ether}();
        assertTrue(stakes.isActiveNode(node));
        (uint256 active, uint256 pending, uint64 unlockAt) = stakes.stakeOf(node);
        assertEq(active, 10 ether);
        assertEq(pending, 0);
        assertEq(unlockAt, 0);
        assertEq(stakes.totalActiveStake(), 10 ether);
        assertEq(address(stakes).balance, 10 ether);
        _solvent(stakes);
    }

    function test_revert_stake_ZeroAmount() public {
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.ZeroAmount.selector));
        stakes.stake();
    }

    // ------------------------------------------------------------------ withdrawals

    function test_withdrawal_delay() public {
        _stake(node, 20 ether);
        uint64 unlockAt = uint64(block.timestamp + 3 hours);
        vm.expectEmit(true, false, false, true, address(stakes));
        emit StakeManager.WithdrawalRequested(node, 15 ether, unlockAt);
        vm.prank(node);
        stakes.requestWithdrawal(15 ether);
        (uint256 active, uint256 pending, uint64 u) = stakes.stakeOf(node);
        assertEq(active, 5 ether);
        assertEq(pending, 15 ether);
        assertEq(u, unlockAt);
        assertFalse(stakes.isActiveNode(node));
        assertEq(stakes.totalActiveStake(), 5 ether);
        assertEq(stakes.totalPendingWithdrawals(), 15 ether);
        _solvent(stakes);

        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WithdrawalLocked.selector, unlockAt));
        stakes.withdrawStake();
        vm.warp(unlockAt - 1);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WithdrawalLocked.selector, unlockAt));
        stakes.withdrawStake();

        vm.warp(unlockAt);
        uint256 before = node.balance;
        vm.expectEmit(true, false, false, true, address(stakes));
        emit StakeManager.StakeWithdrawn(node, 15 ether);
        vm.prank(node);
        stakes.withdrawStake();
        assertEq(node.balance, before + 15 ether);
        (active, pending,) = stakes.stakeOf(node);
        assertEq(active, 5 ether);
        assertEq(pending, 0);
        assertEq(stakes.totalPendingWithdrawals(), 0);
        assertEq(address(stakes).balance, 5 ether);
        _solvent(stakes);

        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NothingToWithdraw.selector));
        stakes.withdrawStake();
    }

    function test_withdrawal_secondRequestRestartsDelay() public {
        _stake(node, 20 ether);
        vm.prank(node);
        stakes.requestWithdrawal(5 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.prank(node);
        stakes.requestWithdrawal(5 ether);
        uint64 unlockAt = uint64(block.timestamp + 3 hours);
        (, uint256 pending, uint64 u) = stakes.stakeOf(node);
        assertEq(pending, 10 ether);
        assertEq(u, unlockAt);
        vm.warp(block.timestamp + 1 hours + 1); // past the first request's unlock, not the second's
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WithdrawalLocked.selector, unlockAt));
        stakes.withdrawStake();
    }

    /// @notice Any stake, any partial withdrawal, any wait: the delay holds, the books balance, and the
    ///         node gets back exactly what it asked for.
    function testFuzz_stakeAndWithdraw(uint256 staked, uint256 withdrawn, uint256 wait) public {
        staked = bound(staked, 1, 10_000 ether);
        withdrawn = bound(withdrawn, 1, staked);
        wait = bound(wait, 0, 6 hours);
        _stake(node, staked);
        vm.prank(node);
        stakes.requestWithdrawal(withdrawn);
        uint64 unlockAt = uint64(block.timestamp + 3 hours);
        assertEq(stakes.isActiveNode(node), staked - withdrawn >= 10 ether);
        _solvent(stakes);
        vm.warp(block.timestamp + wait);
        uint256 before = node.balance;
        if (block.timestamp < unlockAt) {
            vm.prank(node);
            vm.expectRevert(abi.encodeWithSelector(StakeManager.WithdrawalLocked.selector, unlockAt));
            stakes.withdrawStake();
            vm.warp(unlockAt);
        }
        vm.prank(node);
        stakes.withdrawStake();
        assertEq(node.balance, before + withdrawn);
        (uint256 active, uint256 pending,) = stakes.stakeOf(node);
        assertEq(active, staked - withdrawn);
        assertEq(pending, 0);
        assertEq(address(stakes).balance, staked - withdrawn);
        _solvent(stakes);
    }

    function test_revert_requestWithdrawal_ZeroAmount() public {
        _stake(node, 20 ether);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.ZeroAmount.selector));
        stakes.requestWithdrawal(0);
    }

    function test_revert_requestWithdrawal_InsufficientStake() public {
        _stake(node, 20 ether);
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InsufficientStake.selector, 20 ether + 1, 20 ether));
        stakes.requestWithdrawal(20 ether + 1);
    }

    function test_revert_withdrawStake_NothingToWithdraw() public {
        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NothingToWithdraw.selector));
        stakes.withdrawStake();
    }

    function test_revert_withdrawStake_TransferFailed() public {
        EtherRejecter r = new EtherRejecter();
        vm.deal(address(r), 20 ether);
        r.exec(address(stakes), 20 ether, abi.encodeCall(StakeManager.stake, ()));
        r.exec(address(stakes), 0, abi.encodeCall(StakeManager.requestWithdrawal, (20 ether)));
        vm.warp(block.timestamp + 3 hours);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.TransferFailed.selector, address(r), 20 ether));
        r.exec(address(stakes), 0, abi.encodeCall(StakeManager.withdrawStake, ()));
        r.setReject(false);
        r.exec(address(stakes), 0, abi.encodeCall(StakeManager.withdrawStake, ()));
        assertEq(address(r).balance, 20 ether);
    }

    /// @notice A node that requests its withdrawal right after a bad claim is still slashed from the
    ///         pending amount during the delay.
    function test_slashFromPendingDuringDelay() public {
        _stake(node, 10 ether);
        ModelSpec memory s = _publicSpec();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(1, 4), 2, 0));
        vm.prank(node);
        stakes.requestWithdrawal(10 ether);
        (uint256 active, uint256 pending,) = stakes.stakeOf(node);
        assertEq(active, 0);
        assertEq(pending, 10 ether);

        vm.warp(block.timestamp + 59 minutes);
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 2, 0);
        vm.prank(challenger);
        uint256 slashed = fraud.proveLayerFraud(m.ref, f);
        assertEq(slashed, 5 ether);
        (active, pending,) = stakes.stakeOf(node);
        assertEq(active, 0);
        assertEq(pending, 5 ether);
        assertEq(stakes.totalPendingWithdrawals(), 5 ether);
        assertEq(stakes.credits(challenger), 2.5 ether);
        assertEq(BURN.balance, 2.5 ether);
        _solvent(stakes);

        vm.warp(block.timestamp + 3 hours);
        uint256 before = node.balance;
        vm.prank(node);
        stakes.withdrawStake();
        assertEq(node.balance, before + 5 ether);
    }

    // ------------------------------------------------------------------ slash (direct, as a game)

    function test_slash_activeFirstThenPending_split() public {
        _smStake(node, 12 ether);
        vm.prank(node);
        sm.requestWithdrawal(4 ether); // active 8, pending 4
        vm.expectEmit(true, true, false, true, address(sm));
        emit StakeManager.Credited(challenger, 5 ether);
        vm.expectEmit(true, true, false, true, address(sm));
        emit StakeManager.Slashed(node, challenger, 10 ether, 5 ether);
        uint256 slashed = sm.slash(node, 10 ether, challenger);
        assertEq(slashed, 10 ether);
        (uint256 active, uint256 pending,) = sm.stakeOf(node);
        assertEq(active, 0);
        assertEq(pending, 2 ether);
        assertEq(sm.credits(challenger), 5 ether);
        assertEq(sm.totalCredits(), 5 ether);
        assertEq(BURN.balance, 5 ether);
        assertEq(sm.totalActiveStake(), 0);
        assertEq(sm.totalPendingWithdrawals(), 2 ether);
        _solvent(sm);
    }

    function test_slash_cappedAtWhatTheNodeHas() public {
        _smStake(node, 3 ether);
        uint256 slashed = sm.slash(node, 5 ether, challenger);
        assertEq(slashed, 3 ether);
        assertEq(sm.credits(challenger), 1.5 ether);
        assertEq(BURN.balance, 1.5 ether);
        assertEq(sm.slash(node, 5 ether, challenger), 0);
        assertEq(sm.slash(address(0x1234), 5 ether, challenger), 0);
        assertEq(sm.credits(challenger), 1.5 ether);
        _solvent(sm);
    }

    function test_slash_oddAmountRoundsRewardDown() public {
        _smStake(node, 10 ether);
        sm.slash(node, 3, challenger); // reward floor(3 * 5000 / 10000) = 1, burn 2
        assertEq(sm.credits(challenger), 1);
        assertEq(BURN.balance, 2);
        _solvent(sm);
    }

    function testFuzz_slash_split(uint256 staked, uint256 amount, uint16 bps) public {
        staked = bound(staked, 1, 1000 ether);
        amount = bound(amount, 0, 2000 ether);
        bps = uint16(bound(bps, 0, 10_000));
        MarketParams memory p = _preset();
        p.challengerRewardBps = bps;
        StakeManager s = new StakeManager(p);
        address[] memory games = new address[](1);
        games[0] = address(this);
        s.wireDisputeGames(games);
        vm.deal(node, staked);
        vm.prank(node);
        s.stake{value: staked}();
        uint256 burnBefore = BURN.balance;
        uint256 slashed = s.slash(node, amount, challenger);
        uint256 expected = amount < staked ? amount : staked;
        assertEq(slashed, expected);
        uint256 reward = expected * bps / 10_000;
        assertEq(s.credits(challenger), reward);
        assertEq(BURN.balance - burnBefore, expected - reward);
        _solvent(s);
    }

    function test_revert_NotDisputeGame() public {
        _stake(node, 20 ether);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.NotDisputeGame.selector, address(this)));
        stakes.slash(node, 5 ether, challenger);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.NotDisputeGame.selector, address(this)));
        stakes.lockBond{value: 1}(challenger);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameRoles.NotDisputeGame.selector, address(this)));
        stakes.releaseBond(challenger, 0, challenger);
    }

    // ------------------------------------------------------------------ bonds and credits

    function test_bond_lockRelease_credits() public {
        vm.expectEmit(true, false, false, true, address(sm));
        emit StakeManager.BondLocked(challenger, 1 ether);
        sm.lockBond{value: 1 ether}(challenger);
        assertEq(sm.bondsOf(challenger), 1 ether);
        assertEq(sm.totalBonds(), 1 ether);
        _solvent(sm);

        vm.expectEmit(true, true, false, true, address(sm));
        emit StakeManager.BondReleased(challenger, node, 0.4 ether);
        sm.releaseBond(challenger, 0.4 ether, node);
        assertEq(sm.bondsOf(challenger), 0.6 ether);
        assertEq(sm.credits(node), 0.4 ether);
        _solvent(sm);

        vm.expectRevert(abi.encodeWithSelector(StakeManager.BondTooSmall.selector, 0.7 ether, 0.6 ether));
        sm.releaseBond(challenger, 0.7 ether, challenger);

        sm.releaseBond(challenger, 0.6 ether, challenger);
        assertEq(sm.totalBonds(), 0);
        assertEq(sm.totalCredits(), 1 ether);

        uint256 before = node.balance;
        vm.expectEmit(true, false, false, true, address(sm));
        emit StakeManager.CreditsWithdrawn(node, 0.4 ether);
        vm.prank(node);
        sm.withdrawCredits();
        assertEq(node.balance, before + 0.4 ether);
        assertEq(sm.credits(node), 0);
        assertEq(sm.totalCredits(), 0.6 ether);
        _solvent(sm);

        vm.prank(node);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NothingToWithdraw.selector));
        sm.withdrawCredits();
    }

    function test_revert_lockBond_ZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(StakeManager.ZeroAmount.selector));
        sm.lockBond(challenger);
    }

    function test_revert_withdrawCredits_TransferFailed() public {
        EtherRejecter r = new EtherRejecter();
        sm.lockBond{value: 1 ether}(challenger);
        sm.releaseBond(challenger, 1 ether, address(r));
        vm.expectRevert(abi.encodeWithSelector(StakeManager.TransferFailed.selector, address(r), 1 ether));
        r.exec(address(sm), 0, abi.encodeCall(StakeManager.withdrawCredits, ()));
        assertEq(sm.credits(address(r)), 1 ether);
    }

    function test_withdrawCredits_reentrancyBlocked() public {
        Reenterer r = new Reenterer(sm);
        sm.lockBond{value: 1 ether}(challenger);
        sm.releaseBond(challenger, 1 ether, address(r));
        // The re-entrant call reverts inside receive(), so the outer transfer fails.
        vm.expectRevert(abi.encodeWithSelector(StakeManager.TransferFailed.selector, address(r), 1 ether));
        r.go();
        assertEq(sm.credits(address(r)), 1 ether);
        _solvent(sm);
    }
}

/// @dev Calls withdrawCredits again from its receive hook.
contract Reenterer {
    StakeManager internal immutable sm;

    constructor(StakeManager sm_) {
        sm = sm_;
    }

    function go() external {
        sm.withdrawCredits();
    }

    receive() external payable {
        sm.withdrawCredits();
    }
}
