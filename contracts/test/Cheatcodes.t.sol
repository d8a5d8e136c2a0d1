// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";

contract Emitter {
    event Ping(uint256 indexed a, uint256 b);

    error Nope(uint256 x);

    function ping(uint256 a, uint256 b) external {
        emit Ping(a, b);
    }

    function nope(uint256 x) external pure {
        revert Nope(x);
    }

    function plain() external pure {
        revert("plain");
    }
}

/// @notice Calls every cheatcode declared in utils/Vm.sol once, so a wrong signature fails here
///         (forge rejects an unknown cheatcode selector) rather than silently in some later test.
contract CheatcodesTest is Test {
    event Ping(uint256 indexed a, uint256 b);

    Emitter internal e;

    function setUp() public {
        e = new Emitter();
    }

    function test_environment() public {
        vm.warp(12345);
        assertEq(block.timestamp, 12345);
        vm.roll(678);
        assertEq(block.number, 678);
        vm.deal(address(0xBEEF), 3 ether);
        assertEq(address(0xBEEF).balance, 3 ether);
        vm.label(address(0xBEEF), "beef");
        vm.etch(address(0xC0DE), address(e).code);
        assertEq(address(0xC0DE).code.length, address(e).code.length);
        vm.assume(true);
        vm.pauseGasMetering();
        vm.resumeGasMetering();
    }

    function test_callers() public {
        Sender s = new Sender();
        vm.prank(address(0xA11CE));
        assertEq(s.who(), address(0xA11CE));
        vm.startPrank(address(0xB0B));
        assertEq(s.who(), address(0xB0B));
        assertEq(s.who(), address(0xB0B));
        vm.stopPrank();
        assertEq(s.who(), address(this));
    }

    function test_expectations() public {
        vm.expectRevert();
        e.plain();
        vm.expectRevert(bytes("plain"));
        e.plain();
        vm.expectRevert(abi.encodeWithSelector(Emitter.Nope.selector, 7));
        e.nope(7);
        Reverter4 r = new Reverter4();
        vm.expectRevert(Emitter.Nope.selector); // the bytes4 form matches selector-only revert data only
        r.go();
        vm.expectEmit(true, false, false, true);
        emit Ping(1, 2);
        e.ping(1, 2);
        vm.expectEmit(true, false, false, true, address(e));
        emit Ping(3, 4);
        e.ping(3, 4);
        vm.recordLogs();
        e.ping(5, 6);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].emitter, address(e));
        assertEq(logs[0].topics[1], bytes32(uint256(5)));
        assertEq(abi.decode(logs[0].data, (uint256)), 6);
    }

    function test_filesAndJson() public view {
        string memory root = vm.projectRoot();
        string memory json = vm.readFile(string.concat(root, "/tests/vectors/requant.json"));
        uint256 count = vm.parseJsonUint(json, ".count");
        assertEq(uint256(vm.parseJsonInt(json, ".count")), count);
        assertGt(bytes(vm.parseJsonString(json, ".description")).length, 0);
        string[] memory keys = vm.parseJsonKeys(json, "$");
        assertGe(keys.length, 5);
        assertTrue(vm.keyExistsJson(json, ".z"));
        assertFalse(vm.keyExistsJson(json, ".no_such_key"));
        assertEq(vm.parseJsonIntArray(json, ".z").length, count);
        assertEq(vm.parseJsonUintArray(json, ".shift").length, count);
        string memory model = vm.readFile(string.concat(root, "/tests/vectors/model_id.json"));
        assertEq(vm.parseJsonBytes32(model, ".domain"), keccak256("opzk.model.v1"));
        assertGt(vm.parseJsonBoolArray(model, ".models[0].partitions.sensitive").length, 0);
        assertGt(vm.parseJsonBytes32Array(model, ".models[0].weight_roots").length, 0);
        string memory act = vm.readFile(string.concat(root, "/tests/vectors/act_hash.json"));
        bytes[] memory vs = vm.parseJsonBytesArray(act, ".vectors");
        assertEq(vm.parseJsonBytes(act, ".vectors[1]"), vs[1]);
        string memory tr = vm.readFile(string.concat(root, "/tests/vectors/trace_receipt.json"));
        assertTrue(vm.parseJsonAddress(tr, ".receipts[0].node") != address(0));
    }

    function test_stringsAndAsserts() public pure {
        assertEq(keccak256(bytes(vm.toString(uint256(42)))), keccak256("42"));
        assertEq(keccak256(bytes(vm.toString(int256(-42)))), keccak256("-42"));
        assertEq(bytes(vm.toString(bytes32(0))).length, 66);
        assertEq(bytes(vm.toString(address(0))).length, 42);
        assertEq(bytes(hex"0102"), bytes(hex"0102"));
        assertEq(bytes(hex"0102"), bytes(hex"0102"), "bytes");
        assertEq(true, true);
        assertEq(true, true, "bool");
        assertLe(1, 2);
        assertLe(1, 1, "le");
        assertGe(2, 1);
        assertGe(2, 2, "ge");
        assertGt(2, 1);
        assertGt(3, 2, "gt");
        assertFalse(false, "false");
        assertTrue(true, "true");
        assertEq(int256(-1), int256(-1), "int");
        assertEq(address(1), address(1), "address");
        assertEq(bytes32(uint256(1)), bytes32(uint256(1)), "bytes32");
        assertEq(uint256(1), uint256(1), "uint");
    }

    function test_bound() public pure {
        assertEq(bound(uint256(5), 1, 10), 5);
        assertEq(bound(uint256(11), 1, 10), 2); // 1 + 11 % 10
        assertEq(bound(type(uint256).max, 0, type(uint256).max), type(uint256).max);
        assertEq(bound(int256(-7), -3, 3), bound(int256(-7), -3, 3));
        int256 b = bound(int256(-7), -3, 3);
        assertTrue(b >= -3 && b <= 3);
        b = bound(type(int256).min, -3, 3);
        assertTrue(b >= -3 && b <= 3);
    }
}

contract Sender {
    function who() external view returns (address) {
        return msg.sender;
    }
}

contract Reverter4 {
    function go() external pure {
        bytes4 sel = Emitter.Nope.selector;
        assembly ("memory-safe") {
            mstore(0, sel)
            revert(0, 4)
        }
    }
}
