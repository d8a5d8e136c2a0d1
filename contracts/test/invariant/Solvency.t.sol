// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../../src/InferenceMarket.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {Test, console} from "../utils/Test.sol";
import {Handler} from "./Handler.sol";

/// @title Solvency invariants
/// @notice Random sequences of staking, withdrawals, batches, on-chain requests, fraud proofs, data
///         challenges and proof demands never break the contracts' books: each holds exactly what it
///         owes, and together they hold what went in minus what came out or was burnt.
contract SolvencyInvariantTest is Test {
    Handler internal handler;
    StakeManager internal stakes;
    InferenceMarket internal market;

    function setUp() public {
        handler = new Handler();
        stakes = handler.stakesAddr();
        market = handler.marketAddr();
        targetContract(address(handler));
        bytes4[] memory s = new bytes4[](16);
        s[0] = Handler.stake.selector;
        s[1] = Handler.requestWithdrawal.selector;
        s[2] = Handler.withdrawStake.selector;
        s[3] = Handler.withdrawCredits.selector;
        s[4] = Handler.warp.selector;
        s[5] = Handler.commitBatch.selector;
        s[6] = Handler.finalizeBatch.selector;
        s[7] = Handler.requestInference.selector;
        s[8] = Handler.fulfil.selector;
        s[9] = Handler.refundExpired.selector;
        s[10] = Handler.finalizeRequests.selector;
        s[11] = Handler.proveFraud.selector;
        s[12] = Handler.challengeData.selector;
        s[13] = Handler.resolveData.selector;
        s[14] = Handler.demandProof.selector;
        s[15] = Handler.resolveDemand.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: s}));
    }

    function invariant_stakeManagerBooks() public view {
        assertEq(
            address(stakes).balance,
            stakes.totalActiveStake() + stakes.totalPendingWithdrawals() + stakes.totalBonds() + stakes.totalCredits(),
            "StakeManager: balance != active + pending + bonds + credits"
        );
    }

    function invariant_marketBooks() public view {
        assertEq(
            address(market).balance,
            market.totalEscrow() + market.totalCredits(),
            "InferenceMarket: balance != escrow + credits"
        );
    }

    function invariant_conservation() public view {
        assertEq(
            address(stakes).balance + address(market).balance,
            handler.ghostDeposited() - handler.ghostWithdrawn() - handler.burnt(),
            "deposited - withdrawn - burnt"
        );
    }

    function invariant_bondsMatchOpenDisputes() public view {
        assertEq(stakes.totalBonds(), handler.openDACount() * 0.1 ether + handler.openDemandCount() * 0.2 ether);
    }

    /// @notice Runs after each invariant run: the handler must have done real work, not only no-ops.
    function afterInvariant() public view {
        uint256 calls = handler.calls();
        uint256 oks = handler.oks();
        console.log("handler calls", calls);
        console.log("handler successful actions", oks);
        console.log("handler no-ops", handler.noops());
        assertGt(oks, 0, "handler did nothing");
        assertGe(oks * 100, calls * 80, "fewer than 80% of handler calls did something");
    }

    /// @notice A fixed sequence through every handler action, so each is known to work.
    function test_handlerEveryActionSucceeds() public {
        handler.commitBatch(1, false, true); // bad public claim
        handler.commitBatch(2, true, false); // honest sensitive claim
        handler.commitBatch(3, true, true); // bad sensitive claim
        handler.requestInference(0, false, 4, 0);
        handler.requestInference(1, true, 5, 0);
        handler.requestInference(0, false, 6, 0);
        handler.fulfil(0, false);
        handler.fulfil(0, true);
        handler.proveFraud(0);
        handler.challengeData(1, 1);
        handler.resolveData(0, true);
        handler.challengeData(1, 0);
        handler.demandProof(0);
        handler.demandProof(1);
        handler.resolveDemand(0, 0);
        handler.resolveDemand(0, 1);
        handler.resolveData(0, false);
        handler.refundExpired(0);
        handler.warp(2 hours);
        handler.finalizeBatch(0);
        handler.finalizeRequests(0);
        handler.stake(0, 5 ether);
        handler.requestWithdrawal(0, 1 ether);
        handler.withdrawStake(0);
        handler.withdrawCredits(4, false); // challenger's stake-manager credits
        handler.withdrawCredits(3, true); // client's refund
        bytes32[16] memory names = [
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes32("stake"),
            "requestWithdrawal",
            "withdrawStake",
            "withdrawCredits",
            "warp",
            "commitBatch",
            "finalizeBatch",
            "requestInference",
            "fulfil",
            "refundExpired",
            "finalizeRequests",
            "proveFraud",
            "challengeData",
            "resolveData",
            "demandProof",
            "resolveDemand"
        ];
        for (uint256 i; i < names.length; ++i) {
            assertGt(handler.okCount(names[i]), 0, string(abi.encodePacked(names[i])));
        }
        invariant_stakeManagerBooks();
        invariant_marketBooks();
        invariant_conservation();
        invariant_bondsMatchOpenDisputes();
    }
}
