// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {StakeManager} from "../src/StakeManager.sol";
import {InferenceMarket} from "../src/InferenceMarket.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {DisputeGameBase} from "../src/disputes/DisputeGameBase.sol";
import {FraudProofGame} from "../src/disputes/FraudProofGame.sol";
import {Claim, ClaimSource} from "../src/lib/Types.sol";
import {Fixture} from "./utils/Fixture.sol";
import {RefMath} from "./utils/TestLib.sol";

contract FraudProofGameTest is Fixture {
    function setUp() public override {
        super.setUp();
        _stake(node, NODE_STAKE);
    }

    function _pub() internal pure returns (ModelSpec memory) {
        return _publicSpec();
    }

    function _prove(Made memory m, FraudProofGame.LayerFraud memory f) internal returns (uint256) {
        vm.prank(challenger);
        return fraud.proveLayerFraud(m.ref, f);
    }

    function _expectProveRevert(Made memory m, FraudProofGame.LayerFraud memory f, bytes memory err) internal {
        vm.prank(challenger);
        vm.expectRevert(err);
        fraud.proveLayerFraud(m.ref, f);
    }

    function _assertSlashedOnce(Made memory m, uint256 burnBefore) internal view {
        Claim memory c = market.authenticate(m.ref);
        assertTrue(market.fraudulent(c.key));
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
        assertEq(stakes.credits(challenger), 2.5 ether); // 5000 bps of 5 ether
        assertEq(BURN.balance - burnBefore, 2.5 ether); // the rest
        assertEq(
            address(stakes).balance,
            stakes.totalActiveStake() + stakes.totalPendingWithdrawals() + stakes.totalBonds() + stakes.totalCredits()
        );
    }

    // ------------------------------------------------------------------ successful fraud proofs

    function test_wrongOutputElement_lastLayer_slashes() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(1, 4), 2, 1));
        Claim memory c = market.authenticate(m.ref);
        uint256 burnBefore = BURN.balance;
        vm.expectEmit(true, false, true, true, address(market));
        emit InferenceMarket.ClaimSlashed(c.key, ClaimSource.Batch, m.ref.containerId, node);
        vm.expectEmit(true, true, false, true, address(stakes));
        emit StakeManager.Slashed(node, challenger, 5 ether, 2.5 ether);
        vm.expectEmit(true, true, true, true, address(fraud));
        emit FraudProofGame.FraudProven(c.key, node, challenger, 2, 5 ether);
        assertEq(_prove(m, _layerFraud(s, m, 2, 1)), 5 ether);
        _assertSlashedOnce(m, burnBefore);
    }

    function test_wrongOutputElement_firstLayer_slashes() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(2, 4), 1, 2));
        // Layer 2 was computed correctly from the tampered h_1: no fraud there.
        _expectProveRevert(m, _layerFraud(s, m, 2, 0), abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        _expectProveRevert(m, _layerFraud(s, m, 2, 1), abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        // Rows 0 and 1 of layer 1 are right, row 2 is wrong.
        _expectProveRevert(m, _layerFraud(s, m, 1, 0), abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        uint256 burnBefore = BURN.balance;
        assertEq(_prove(m, _layerFraud(s, m, 1, 2)), 5 ether);
        _assertSlashedOnce(m, burnBefore);
    }

    function test_correctClaim_NoFraud_everyRow() public {
        ModelSpec memory s = _pub();
        for (uint256 seed; seed < 4; ++seed) {
            Made memory m = _honestBatchClaim(s, publicModel, node, seed);
            for (uint32 l = 1; l <= 2; ++l) {
                for (uint32 j; j < s.headers[l - 1].outDim; ++j) {
                    _expectProveRevert(
                        m, _layerFraud(s, m, l, j), abi.encodeWithSelector(FraudProofGame.NoFraud.selector)
                    );
                }
            }
        }
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE);
    }

    function test_wrongLength_output_slashes() public {
        ModelSpec memory s = _pub();
        bytes[] memory h = _forward(s, _input(4, 4));
        h[1] = hex"0102"; // h_1 should have 3 elements
        h[2] = _layerForward(s, 2, hex"010200");
        Made memory m = _commitTrace(s, publicModel, node, h);
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 1, 0);
        uint256 burnBefore = BURN.balance;
        assertEq(_prove(m, f), 5 ether);
        _assertSlashedOnce(m, burnBefore);
    }

    function test_wrongLength_input_slashes() public {
        ModelSpec memory s = _pub();
        bytes[] memory h = _forward(s, _input(4, 4));
        h[1] = hex"01020304"; // 4 elements where layer 2 takes 3
        Made memory m = _commitTrace(s, publicModel, node, h);
        // Proven through layer 2, whose input has the wrong length (the row index does not matter).
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 2, 0);
        f.row = 99;
        uint256 burnBefore = BURN.balance;
        assertEq(_prove(m, f), 5 ether);
        _assertSlashedOnce(m, burnBefore);
    }

    function test_wrongLength_modelInput_slashes() public {
        ModelSpec memory s = _pub();
        bytes[] memory h = _forward(s, _input(4, 4));
        h[0] = hex"0102030405";
        Made memory m = _commitTrace(s, publicModel, node, h);
        assertEq(_prove(m, _layerFraud(s, m, 1, 0)), 5 ether);
    }

    function test_endpointFraud_input() public {
        ModelSpec memory s = _pub();
        bytes[] memory h = _forward(s, _input(5, 4));
        bytes32[] memory a = _actHashes(s, h);
        bytes32 claimedInput = RefMath.actHash(hex"00000000"); // the receipt names another input
        Made memory m = _commitClaim(publicModel, node, h, a, claimedInput, a[2]);
        Claim memory c = market.authenticate(m.ref);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        fraud.proveEndpointFraud(m.ref, 2, a[2], _traceProof(m, 2));
        uint256 burnBefore = BURN.balance;
        vm.expectEmit(true, true, true, true, address(fraud));
        emit FraudProofGame.FraudProven(c.key, node, challenger, 0, 5 ether);
        vm.prank(challenger);
        assertEq(fraud.proveEndpointFraud(m.ref, 0, a[0], _traceProof(m, 0)), 5 ether);
        _assertSlashedOnce(m, burnBefore);
    }

    function test_endpointFraud_output() public {
        ModelSpec memory s = _pub();
        bytes[] memory h = _forward(s, _input(6, 4));
        bytes32[] memory a = _actHashes(s, h);
        Made memory m = _commitClaim(publicModel, node, h, a, a[0], RefMath.actHash(hex"7f7f"));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        fraud.proveEndpointFraud(m.ref, 0, a[0], _traceProof(m, 0));
        uint256 burnBefore = BURN.balance;
        vm.prank(challenger);
        assertEq(fraud.proveEndpointFraud(m.ref, 2, a[2], _traceProof(m, 2)), 5 ether);
        _assertSlashedOnce(m, burnBefore);
    }

    function test_revert_endpoint_NotAnEndpoint_InvalidTraceProof() public {
        ModelSpec memory s = _pub();
        Made memory m = _honestBatchClaim(s, publicModel, node, 7);
        bytes32[] memory a = _actHashes(s, m.h);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(FraudProofGame.NotAnEndpoint.selector, 1));
        fraud.proveEndpointFraud(m.ref, 1, a[1], _traceProof(m, 1));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(FraudProofGame.NotAnEndpoint.selector, 3));
        fraud.proveEndpointFraud(m.ref, 3, a[1], _traceProof(m, 1));
        // A hash that is not the committed entry 0.
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 0));
        fraud.proveEndpointFraud(m.ref, 0, bytes32(uint256(5)), _traceProof(m, 0));
    }

    function test_fraudOnRequest_refundsClient() public {
        ModelSpec memory s = _pub();
        _serve(node, publicModel);
        (Made memory m, uint256 id) = _requestAndFulfil(s, publicModel, node, _forwardTampered(s, _input(8, 4), 2, 0));
        assertEq(market.totalEscrow(), FEE);
        vm.expectEmit(true, true, false, true, address(market));
        emit InferenceMarket.RequestRefunded(id, client, FEE);
        assertEq(_prove(m, _layerFraud(s, m, 2, 0)), 5 ether);
        InferenceMarket.Request memory r = market.request(id);
        assertTrue(r.status == InferenceMarket.RequestStatus.Slashed);
        assertEq(market.credits(client), FEE);
        assertEq(market.credits(node), 0);
        assertEq(market.totalEscrow(), 0);
        assertEq(address(market).balance, market.totalEscrow() + market.totalCredits());
        assertEq(stakes.credits(challenger), 2.5 ether);
        // The request can no longer be finalized.
        vm.warp(block.timestamp + 2 hours);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        vm.expectRevert(
            abi.encodeWithSelector(
                InferenceMarket.WrongRequestStatus.selector, id, InferenceMarket.RequestStatus.Slashed
            )
        );
        market.finalizeRequests(ids);
    }

    function test_sensitiveModel_publicLayerAfterPartition() public {
        ModelSpec memory s = _sensitiveSpec();
        Made memory m = _commitTrace(s, sensitiveModel, node, _forwardTampered(s, _input(9, 4), 4, 1));
        _expectProveRevert(m, _layerFraud(s, m, 1, 0), abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        _expectProveRevert(m, _layerFraud(s, m, 4, 0), abi.encodeWithSelector(FraudProofGame.NoFraud.selector));
        assertEq(_prove(m, _layerFraud(s, m, 4, 1)), 5 ether);
    }

    function test_slashWithNothingLeft_marksClaimAndSlashesZero() public {
        address poor = makeAddr("poor");
        _stake(poor, 10 ether);
        ModelSpec memory s = _pub();
        Made memory m1 = _commitTrace(s, publicModel, poor, _forwardTampered(s, _input(30, 4), 2, 0));
        Made memory m2 = _commitTrace(s, publicModel, poor, _forwardTampered(s, _input(31, 4), 2, 0));
        Made memory m3 = _commitTrace(s, publicModel, poor, _forwardTampered(s, _input(32, 4), 2, 0));
        assertEq(_prove(m1, _layerFraud(s, m1, 2, 0)), 5 ether);
        assertEq(_prove(m2, _layerFraud(s, m2, 2, 0)), 5 ether);
        assertEq(_prove(m3, _layerFraud(s, m3, 2, 0)), 0);
        assertTrue(market.fraudulent(market.authenticate(m3.ref).key));
        assertEq(stakes.credits(challenger), 5 ether);
    }

    // ------------------------------------------------------------------ reverts

    function test_revert_InvalidTraceProof() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(10, 4), 2, 0));
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 2, 0);
        f.inputProof = _traceProof(m, 0); // proof of another entry
        _expectProveRevert(m, f, abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 1));
        f = _layerFraud(s, m, 2, 0);
        f.output = hex"0000"; // not the committed h_2
        _expectProveRevert(m, f, abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 2));
        f = _layerFraud(s, m, 2, 0);
        f.input = m.h[0];
        _expectProveRevert(m, f, abi.encodeWithSelector(DisputeGameBase.InvalidTraceProof.selector, 1));
    }

    function test_revert_InvalidWeightRow() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(11, 4), 1, 0));
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 1, 0);
        f.bias += 1;
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.InvalidWeightRow.selector, 0));
        f = _layerFraud(s, m, 1, 0);
        f.weights[3] = bytes1(uint8(f.weights[3]) ^ 1);
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.InvalidWeightRow.selector, 0));
        f = _layerFraud(s, m, 1, 0);
        f.weights = bytes.concat(f.weights, hex"00"); // wrong length
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.InvalidWeightRow.selector, 0));
        f = _layerFraud(s, m, 1, 0);
        f.weightProof = _weightProof(s, 1, 1); // proof of another row
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.InvalidWeightRow.selector, 0));
        // Row 1's weights presented as row 0.
        f = _layerFraud(s, m, 1, 1);
        f.row = 0;
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.InvalidWeightRow.selector, 0));
        // The real evidence still works.
        assertEq(_prove(m, _layerFraud(s, m, 1, 0)), 5 ether);
    }

    function test_revert_RowOutOfRange() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(12, 4), 2, 0));
        _expectProveRevert(
            m, _layerFraud(s, m, 2, 2), abi.encodeWithSelector(FraudProofGame.RowOutOfRange.selector, 2, 2)
        );
    }

    function test_revert_NotPublicLayer() public {
        ModelSpec memory s = _sensitiveSpec();
        Made memory m = _commitTrace(s, sensitiveModel, node, _forwardTampered(s, _input(13, 4), 3, 0));
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 1, 0); // any evidence shape
        f.layer = 3;
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.NotPublicLayer.selector, 3));
        f.layer = 2;
        _expectProveRevert(m, f, abi.encodeWithSelector(FraudProofGame.NotPublicLayer.selector, 2));
    }

    function test_revert_unknownLayer() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(14, 4), 2, 0));
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 2, 0);
        f.layer = 3;
        _expectProveRevert(m, f, abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, publicModel, 3));
        f.layer = 0;
        _expectProveRevert(m, f, abi.encodeWithSelector(ModelRegistry.UnknownLayer.selector, publicModel, 0));
    }

    function test_revert_windowClosed() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(15, 4), 2, 0));
        uint64 windowEnd = uint64(block.timestamp + 1 hours);
        vm.warp(windowEnd - 1);
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 2, 0);
        uint256 snap = block.timestamp;
        vm.warp(windowEnd);
        _expectProveRevert(m, f, abi.encodeWithSelector(InferenceMarket.ChallengeWindowClosed.selector, windowEnd));
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ChallengeWindowClosed.selector, windowEnd));
        fraud.proveEndpointFraud(m.ref, 0, bytes32(0), new bytes32[](0));
        vm.warp(snap); // one second before the end: still provable
        assertEq(_prove(m, f), 5 ether);
    }

    function test_revert_ClaimAlreadySlashed() public {
        ModelSpec memory s = _pub();
        bytes[] memory h = _forwardTampered(s, _input(16, 4), 2, 0);
        h[2][1] = _offByOne(h[2][1]); // two wrong rows
        Made memory m = _commitTrace(s, publicModel, node, h);
        bytes32 key = market.authenticate(m.ref).key;
        assertEq(_prove(m, _layerFraud(s, m, 2, 0)), 5 ether);
        _expectProveRevert(
            m, _layerFraud(s, m, 2, 1), abi.encodeWithSelector(InferenceMarket.ClaimAlreadySlashed.selector, key)
        );
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.ClaimAlreadySlashed.selector, key));
        fraud.proveEndpointFraud(m.ref, 0, bytes32(0), new bytes32[](0));
        (uint256 active,,) = stakes.stakeOf(node);
        assertEq(active, NODE_STAKE - 5 ether);
    }

    function test_revert_InvalidClaim() public {
        ModelSpec memory s = _pub();
        Made memory m = _commitTrace(s, publicModel, node, _forwardTampered(s, _input(17, 4), 2, 0));
        FraudProofGame.LayerFraud memory f = _layerFraud(s, m, 2, 0);
        m.ref.receipt.client = node2;
        _expectProveRevert(m, f, abi.encodeWithSelector(InferenceMarket.InvalidClaim.selector));
    }

    function test_immutables() public view {
        assertEq(address(fraud.market()), address(market));
        assertEq(address(fraud.stakes()), address(stakes));
        assertEq(address(fraud.registry()), address(registry));
        assertEq(fraud.slashAmount(), 5 ether);
    }
}
