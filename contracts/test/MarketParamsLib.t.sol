// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MarketParamsLib} from "../src/lib/MarketParamsLib.sol";
import {MarketParams} from "../src/lib/Types.sol";
import {LibHarness} from "./utils/Harness.sol";
import {Test} from "./utils/Test.sol";

contract MarketParamsLibTest is Test {
    LibHarness internal h;

    function setUp() public {
        h = new LibHarness();
    }

    function _p() internal pure returns (MarketParams memory) {
        return MarketParams({
            challengeWindow: 1 hours,
            dataResponseWindow: 30 minutes,
            proofResponseWindow: 1 hours,
            requestTimeout: 10 minutes,
            withdrawalDelay: 3 hours,
            minNodeStake: 10 ether,
            slashAmount: 5 ether,
            challengerRewardBps: 5000,
            dataBond: 0.1 ether,
            proofBond: 0.2 ether,
            minRequestFee: 0.001 ether
        });
    }

    function _expect(MarketParams memory p, bytes memory err) internal {
        vm.expectRevert(err);
        h.validate(p);
    }

    function test_presetIsValid() public view {
        h.validate(_p());
    }

    function test_ZeroWindow() public {
        bytes memory err = abi.encodeWithSelector(MarketParamsLib.ZeroWindow.selector);
        MarketParams memory p = _p();
        p.challengeWindow = 0;
        _expect(p, err);
        p = _p();
        p.dataResponseWindow = 0;
        _expect(p, err);
        p = _p();
        p.proofResponseWindow = 0;
        _expect(p, err);
        p = _p();
        p.requestTimeout = 0;
        _expect(p, err);
    }

    function test_WithdrawalDelayTooShort() public {
        MarketParams memory p = _p();
        // Longest dispute is the proof window (1 h): the bound is 2 h, exclusive.
        p.withdrawalDelay = 2 hours;
        _expect(
            p,
            abi.encodeWithSelector(MarketParamsLib.WithdrawalDelayTooShort.selector, uint64(2 hours), uint64(2 hours))
        );
        p.withdrawalDelay = 1;
        _expect(p, abi.encodeWithSelector(MarketParamsLib.WithdrawalDelayTooShort.selector, uint64(1), uint64(2 hours)));
        p.withdrawalDelay = 2 hours + 1;
        h.validate(p);
        // Longest dispute is the data window.
        p = _p();
        p.dataResponseWindow = 5 hours;
        _expect(
            p,
            abi.encodeWithSelector(MarketParamsLib.WithdrawalDelayTooShort.selector, uint64(3 hours), uint64(6 hours))
        );
        p.withdrawalDelay = 6 hours + 1;
        h.validate(p);
    }

    /// Windows whose sum overflows 64 bits still get the named error, not an arithmetic panic.
    function test_WithdrawalDelayTooShort_hugeWindows() public {
        MarketParams memory p = _p();
        p.challengeWindow = type(uint64).max;
        p.proofResponseWindow = type(uint64).max;
        p.withdrawalDelay = type(uint64).max;
        uint256 bound = uint256(type(uint64).max) * 2;
        _expect(
            p,
            abi.encodeWithSelector(MarketParamsLib.WithdrawalDelayTooShort.selector, type(uint64).max, bound)
        );
    }

    function test_RewardShareTooHigh() public {
        MarketParams memory p = _p();
        p.challengerRewardBps = 10_001;
        _expect(p, abi.encodeWithSelector(MarketParamsLib.RewardShareTooHigh.selector, uint16(10_001)));
        p.challengerRewardBps = 10_000;
        h.validate(p);
        p.challengerRewardBps = 0;
        h.validate(p);
    }

    function test_SlashExceedsMinStake() public {
        MarketParams memory p = _p();
        p.slashAmount = 0;
        _expect(p, abi.encodeWithSelector(MarketParamsLib.SlashExceedsMinStake.selector, 0, 10 ether));
        p.slashAmount = 10 ether + 1;
        _expect(p, abi.encodeWithSelector(MarketParamsLib.SlashExceedsMinStake.selector, 10 ether + 1, 10 ether));
        p.slashAmount = 10 ether;
        h.validate(p);
    }

    function test_ZeroBond() public {
        bytes memory err = abi.encodeWithSelector(MarketParamsLib.ZeroBond.selector);
        MarketParams memory p = _p();
        p.dataBond = 0;
        _expect(p, err);
        p = _p();
        p.proofBond = 0;
        _expect(p, err);
    }

    function test_minRequestFeeMayBeZero() public view {
        MarketParams memory p = _p();
        p.minRequestFee = 0;
        h.validate(p);
    }

    /// @notice validate accepts exactly the parameter sets that satisfy every rule.
    function testFuzz_validate(
        uint32 cw,
        uint32 dw,
        uint32 pw,
        uint32 rt,
        uint64 wd,
        uint256 minStake,
        uint256 slash,
        uint16 bps,
        uint256 dataBond,
        uint256 proofBond
    ) public view {
        MarketParams memory p = MarketParams(cw, dw, pw, rt, wd, minStake, slash, bps, dataBond, proofBond, 0);
        uint64 longest = dw > pw ? dw : pw;
        bool ok = cw != 0 && dw != 0 && pw != 0 && rt != 0 && wd > uint64(cw) + longest && bps <= 10_000 && slash != 0
            && slash <= minStake && dataBond != 0 && proofBond != 0;
        (bool success,) = address(h).staticcall(abi.encodeCall(LibHarness.validate, (p)));
        assertEq(success, ok);
    }
}
