// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MarketParams} from "./Types.sol";

/// @title Validation of a deployment's parameters
library MarketParamsLib {
    /// @notice The withdrawal delay does not exceed the challenge window plus the longest dispute.
    error WithdrawalDelayTooShort(uint64 withdrawalDelay, uint256 minimumExclusive);
    /// @notice A window or timeout is zero.
    error ZeroWindow();
    /// @notice The challenger's share of a slash is above 100%.
    error RewardShareTooHigh(uint16 bps);
    /// @notice A node could stake less than one slash, so a fraud could go unpunished.
    error SlashExceedsMinStake(uint256 slashAmount, uint256 minNodeStake);
    /// @notice A dispute bond is zero, so bogus challenges would cost nothing.
    error ZeroBond();

    uint16 internal constant BPS = 10_000;

    /// @notice Reverts unless `p` is internally consistent.
    function validate(MarketParams memory p) internal pure {
        if (
            p.challengeWindow == 0 || p.dataResponseWindow == 0 || p.proofResponseWindow == 0
                || p.requestTimeout == 0
        ) revert ZeroWindow();
        uint64 longestDispute =
            p.dataResponseWindow > p.proofResponseWindow ? p.dataResponseWindow : p.proofResponseWindow;
        // In 256 bits: two uint64 windows cannot overflow the sum.
        uint256 bound = uint256(p.challengeWindow) + longestDispute;
        if (p.withdrawalDelay <= bound) revert WithdrawalDelayTooShort(p.withdrawalDelay, bound);
        if (p.challengerRewardBps > BPS) revert RewardShareTooHigh(p.challengerRewardBps);
        if (p.slashAmount == 0 || p.slashAmount > p.minNodeStake) {
            revert SlashExceedsMinStake(p.slashAmount, p.minNodeStake);
        }
        if (p.dataBond == 0 || p.proofBond == 0) revert ZeroBond();
    }
}
