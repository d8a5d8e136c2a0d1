// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {DisputeGameRoles} from "./DisputeGameRoles.sol";
import {MarketParamsLib} from "./lib/MarketParamsLib.sol";
import {MarketParams} from "./lib/Types.sol";

/// @title StakeManager
/// @notice Holds, in native ETH, the stakes of inference nodes, the bonds of open disputes, and the
///         credits (rewards, returned bonds) that accounts withdraw themselves.
/// @dev Invariant: address(this).balance == totalActiveStake + totalPendingWithdrawals + totalBonds
///      + totalCredits. Only the dispute games wired at deployment may slash or move bonds. A node's
///      withdrawal waits `withdrawalDelay`, longer than a challenge window plus the longest dispute,
///      so every claim made before the request can still be slashed from the pending amount.
contract StakeManager is DisputeGameRoles, ReentrancyGuard {
    /// @notice Address that receives the burnt share of slashed stake.
    address public constant BURN_ADDRESS = 0x000000000000000000000000000000000000dEaD;
    uint16 internal constant BPS = 10_000;

    struct NodeStake {
        uint256 active;
        uint256 pending;
        uint64 unlockAt;
    }

    uint256 public immutable minNodeStake;
    uint64 public immutable withdrawalDelay;
    uint16 public immutable challengerRewardBps;


    mapping(address node => NodeStake) private _stakes;
    mapping(address account => uint256) public credits;
    mapping(address challenger => uint256) public bondsOf;

    uint256 public totalActiveStake;
    uint256 public totalPendingWithdrawals;
    uint256 public totalBonds;
    uint256 public totalCredits;

    /// @notice `node` added `amount` to its stake.
    event Staked(address indexed node, uint256 amount, uint256 activeStake);
    /// @notice `node` moved `amount` of stake into a pending withdrawal that unlocks at `unlockAt`.
    event WithdrawalRequested(address indexed node, uint256 amount, uint64 unlockAt);
    /// @notice `node` withdrew its unlocked pending stake.
    event StakeWithdrawn(address indexed node, uint256 amount);
    /// @notice `node` lost `amount`: `reward` credited to `challenger`, the rest burnt.
    event Slashed(address indexed node, address indexed challenger, uint256 amount, uint256 reward);
    /// @notice A dispute game locked `amount` posted by `challenger` as a bond.
    event BondLocked(address indexed challenger, uint256 amount);
    /// @notice A locked bond of `challenger` was released as a credit to `recipient`.
    event BondReleased(address indexed challenger, address indexed recipient, uint256 amount);
    /// @notice `account` was credited `amount`.
    event Credited(address indexed account, uint256 amount);
    /// @notice `account` withdrew its credits.
    event CreditsWithdrawn(address indexed account, uint256 amount);

    /// @notice The amount is zero.
    error ZeroAmount();
    /// @notice The node has less active stake than asked for.
    error InsufficientStake(uint256 requested, uint256 available);
    /// @notice Nothing is pending, or the pending withdrawal is still locked.
    error WithdrawalLocked(uint64 unlockAt);
    /// @notice Nothing to withdraw.
    error NothingToWithdraw();
    /// @notice The challenger has less locked bond than the amount released.
    error BondTooSmall(uint256 requested, uint256 locked);
    /// @notice An ETH transfer failed.
    error TransferFailed(address to, uint256 amount);

    constructor(MarketParams memory params) {
        MarketParamsLib.validate(params);
        minNodeStake = params.minNodeStake;
        withdrawalDelay = params.withdrawalDelay;
        challengerRewardBps = params.challengerRewardBps;
    }

    // ----------------------------------------------------------------------------------------------
    // Nodes
    // ----------------------------------------------------------------------------------------------

    /// @notice Adds msg.value to the caller's active stake.
    function stake() external payable {
        if (msg.value == 0) revert ZeroAmount();
        NodeStake storage s = _stakes[msg.sender];
        s.active += msg.value;
        totalActiveStake += msg.value;
        emit Staked(msg.sender, msg.value, s.active);
    }

    /// @notice Moves `amount` of active stake to the pending withdrawal and (re)starts its delay.
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        NodeStake storage s = _stakes[msg.sender];
        if (amount > s.active) revert InsufficientStake(amount, s.active);
        s.active -= amount;
        s.pending += amount;
        s.unlockAt = uint64(block.timestamp) + withdrawalDelay;
        totalActiveStake -= amount;
        totalPendingWithdrawals += amount;
        emit WithdrawalRequested(msg.sender, amount, s.unlockAt);
    }

    /// @notice Sends the caller its pending withdrawal once unlocked.
    function withdrawStake() external nonReentrant {
        NodeStake storage s = _stakes[msg.sender];
        uint256 amount = s.pending;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < s.unlockAt) revert WithdrawalLocked(s.unlockAt);
        s.pending = 0;
        totalPendingWithdrawals -= amount;
        emit StakeWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice Sends the caller all its credits.
    function withdrawCredits() external nonReentrant {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender] = 0;
        totalCredits -= amount;
        emit CreditsWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice Active stake, pending withdrawal and its unlock time of `node`.
    function stakeOf(address node) external view returns (uint256 active, uint256 pending, uint64 unlockAt) {
        NodeStake storage s = _stakes[node];
        return (s.active, s.pending, s.unlockAt);
    }

    /// @notice Whether `node` has at least the minimum active stake to commit new claims.
    function isActiveNode(address node) external view returns (bool) {
        return _stakes[node].active >= minNodeStake;
    }

    // ----------------------------------------------------------------------------------------------
    // Dispute games
    // ----------------------------------------------------------------------------------------------

    /// @notice Takes up to `amount` from `node` (active first, then pending), credits the challenger
    ///         its share and burns the rest.
    /// @return slashed The amount actually taken (less than `amount` if the node had less).
    /// @dev No reentrancy guard is needed: the only external call sends ETH to BURN_ADDRESS, which
    ///      has no code and whose key nobody holds.
    function slash(address node, uint256 amount, address challenger)
        external
        onlyDisputeGame
        returns (uint256 slashed)
    {
        NodeStake storage s = _stakes[node];
        uint256 fromActive = amount < s.active ? amount : s.active;
        s.active -= fromActive;
        totalActiveStake -= fromActive;
        uint256 rest = amount - fromActive;
        uint256 fromPending = rest < s.pending ? rest : s.pending;
        s.pending -= fromPending;
        totalPendingWithdrawals -= fromPending;
        slashed = fromActive + fromPending;

        uint256 reward = (slashed * challengerRewardBps) / BPS;
        uint256 burnt = slashed - reward;
        _credit(challenger, reward);
        emit Slashed(node, challenger, slashed, reward);
        if (burnt > 0) _send(BURN_ADDRESS, burnt);
    }

    /// @notice Locks msg.value as a bond posted by `challenger`.
    function lockBond(address challenger) external payable onlyDisputeGame {
        if (msg.value == 0) revert ZeroAmount();
        bondsOf[challenger] += msg.value;
        totalBonds += msg.value;
        emit BondLocked(challenger, msg.value);
    }

    /// @notice Releases `amount` of `challenger`'s locked bond as a credit to `recipient`.
    function releaseBond(address challenger, uint256 amount, address recipient) external onlyDisputeGame {
        uint256 locked = bondsOf[challenger];
        if (amount > locked) revert BondTooSmall(amount, locked);
        bondsOf[challenger] = locked - amount;
        totalBonds -= amount;
        _credit(recipient, amount);
        emit BondReleased(challenger, recipient, amount);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        credits[account] += amount;
        totalCredits += amount;
        emit Credited(account, amount);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
