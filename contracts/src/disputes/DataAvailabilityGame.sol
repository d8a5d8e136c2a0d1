// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMarket} from "../InferenceMarket.sol";
import {Commitments} from "../lib/Commitments.sol";
import {Claim, ClaimRef, MarketParams} from "../lib/Types.sol";
import {DisputeGameBase} from "./DisputeGameBase.sol";

/// @title DataAvailabilityGame
/// @notice A challenger who cannot get a committed activation vector from a node posts a bond asking
///         for it. Anyone may publish the vector on-chain (as an event) with its proof against the
///         claim's trace root before the deadline: the bond then goes to the node, which paid for the
///         publication. After the deadline with no publication, the node is slashed and the
///         challenger gets its bond back plus the reward.
contract DataAvailabilityGame is DisputeGameBase {
    enum Status {
        None,
        Open,
        Published,
        TimedOut
    }

    struct DataChallenge {
        Claim claim;
        address challenger;
        uint32 index;
        uint64 deadline;
        Status status;
    }

    uint256 public immutable bond;
    uint64 public immutable responseWindow;

    uint256 public challengeCount;
    mapping(uint256 challengeId => DataChallenge) private _challenges;
    /// @notice The open challenge, if any, per (claim key, trace index).
    mapping(bytes32 claimKey => mapping(uint256 index => uint256 challengeId)) public openChallengeOf;

    /// @notice `challenger` asked for trace entry `index` of a claim; the node must answer by `deadline`.
    event DataChallenged(
        uint256 indexed challengeId,
        bytes32 indexed claimKey,
        address indexed node,
        address challenger,
        uint256 index,
        uint64 deadline
    );
    /// @notice The vector of challenge `challengeId` was published.
    event DataPublished(uint256 indexed challengeId, bytes32 indexed claimKey, uint256 index, bytes vector);
    /// @notice The node missed the deadline of challenge `challengeId` and was slashed `slashed`.
    event DataChallengeTimedOut(uint256 indexed challengeId, bytes32 indexed claimKey, uint256 slashed);

    /// @notice msg.value is not the preset bond.
    error WrongBond(uint256 sent, uint256 required);
    /// @notice The trace index is hidden inside a sensitive partition (an index beyond the model's
    ///         last layer reverts earlier, with ModelRegistry.UnknownLayer).
    error NotPublicTraceIndex(uint256 index);
    /// @notice A challenge for this claim and index is already open.
    error ChallengeAlreadyOpen(uint256 challengeId);
    /// @notice No open challenge with this id.
    error ChallengeNotOpen(uint256 challengeId);
    /// @notice The response deadline has passed.
    error DeadlinePassed(uint64 deadline);
    /// @notice The response deadline has not passed yet.
    error DeadlineNotPassed(uint64 deadline);

    constructor(InferenceMarket market_, MarketParams memory params) DisputeGameBase(market_, params) {
        bond = params.dataBond;
        responseWindow = params.dataResponseWindow;
    }

    /// @notice Asks the claim's node to publish trace entry `index`; msg.value must be the bond.
    function challenge(ClaimRef calldata claim, uint32 index) external payable returns (uint256 challengeId) {
        if (msg.value != bond) revert WrongBond(msg.value, bond);
        Claim memory c = market.beginDispute(claim);
        if (!registry.isPublicTraceIndex(c.modelId, index)) revert NotPublicTraceIndex(index);
        uint256 existing = openChallengeOf[c.key][index];
        if (existing != 0) revert ChallengeAlreadyOpen(existing);

        challengeId = ++challengeCount;
        uint64 deadline = uint64(block.timestamp) + responseWindow;
        _challenges[challengeId] = DataChallenge({
            claim: c,
            challenger: msg.sender,
            index: index,
            deadline: deadline,
            status: Status.Open
        });
        openChallengeOf[c.key][index] = challengeId;
        stakes.lockBond{value: msg.value}(msg.sender);
        emit DataChallenged(challengeId, c.key, c.node, msg.sender, index, deadline);
    }

    /// @notice Publishes the challenged vector; the bond goes to the claim's node.
    /// @param proof Proof of traceLeaf(index, actHash(vector)) against the claim's trace root.
    function publish(uint256 challengeId, bytes calldata vector, bytes32[] calldata proof) external {
        DataChallenge storage ch = _open(challengeId);
        if (block.timestamp > ch.deadline) revert DeadlinePassed(ch.deadline);
        Claim memory c = ch.claim;
        _checkTraceEntry(c, ch.index, Commitments.actHash(vector), proof);
        ch.status = Status.Published;
        delete openChallengeOf[c.key][ch.index];
        market.endDispute(c, false);
        stakes.releaseBond(ch.challenger, bond, c.node);
        emit DataPublished(challengeId, c.key, ch.index, vector);
    }

    /// @notice After a missed deadline: slashes the node (once per claim), returns the bond.
    function resolveTimeout(uint256 challengeId) external returns (uint256 slashed) {
        DataChallenge storage ch = _open(challengeId);
        if (block.timestamp <= ch.deadline) revert DeadlineNotPassed(ch.deadline);
        Claim memory c = ch.claim;
        ch.status = Status.TimedOut;
        delete openChallengeOf[c.key][ch.index];
        if (market.endDispute(c, true)) slashed = _slash(c, ch.challenger);
        stakes.releaseBond(ch.challenger, bond, ch.challenger);
        emit DataChallengeTimedOut(challengeId, c.key, slashed);
    }

    /// @notice A data challenge.
    function getChallenge(uint256 challengeId) external view returns (DataChallenge memory) {
        return _challenges[challengeId];
    }

    function _open(uint256 challengeId) private view returns (DataChallenge storage ch) {
        ch = _challenges[challengeId];
        if (ch.status != Status.Open) revert ChallengeNotOpen(challengeId);
    }
}
