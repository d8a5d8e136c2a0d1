// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {DisputeGameRoles} from "./DisputeGameRoles.sol";
import {Commitments} from "./lib/Commitments.sol";
import {MarketParamsLib} from "./lib/MarketParamsLib.sol";
import {Claim, ClaimRef, ClaimSource, LayerHeader, MarketParams, Receipt} from "./lib/Types.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {StakeManager} from "./StakeManager.sol";

/// @title InferenceMarket
/// @notice Where inference results become claims. Two entry paths share one claim model:
///         (a) on-chain requests, whose fee waits in escrow until the assigned node's fulfilment is
///         final (many fulfilments per transaction); (b) batch roots over off-chain receipts.
///         Every claim has a challenge window; dispute games authenticate claims here, keep them
///         from finalizing while a dispute is open, and mark the fraudulent ones.
/// @dev Invariant: address(this).balance == totalEscrow + totalCredits.
contract InferenceMarket is DisputeGameRoles, ReentrancyGuard {
    enum BatchStatus {
        None,
        Committed,
        Finalized
    }

    enum RequestStatus {
        None,
        Pending,
        Fulfilled,
        Finalized,
        Refunded,
        Slashed
    }

    struct Batch {
        bytes32 root;
        address node;
        uint32 count;
        uint40 committedAt;
        BatchStatus status;
    }

    struct Request {
        address client;
        uint96 fee;
        address node;
        RequestStatus status;
        uint40 deadline;
        uint40 fulfilledAt;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 resultHash;
    }

    ModelRegistry public immutable registry;
    StakeManager public immutable stakes;
    uint64 public immutable challengeWindow;
    uint64 public immutable requestTimeout;
    uint256 public immutable minRequestFee;


    uint256 public batchCount;
    uint256 public requestCount;
    mapping(uint256 batchId => Batch) private _batches;
    mapping(uint256 requestId => Request) private _requests;

    mapping(bytes32 modelId => address[]) private _servers;
    mapping(bytes32 modelId => mapping(address node => uint256 slot)) private _serverSlot;
    mapping(bytes32 modelId => uint256) private _assignCursor;

    /// @notice Open disputes per container (batch or request); a container with open disputes
    ///         cannot finalize.
    mapping(ClaimSource source => mapping(uint256 containerId => uint256)) public openDisputes;
    /// @notice Claims proven fraudulent, by claim key.
    mapping(bytes32 claimKey => bool) public fraudulent;

    mapping(address account => uint256) public credits;
    uint256 public totalEscrow;
    uint256 public totalCredits;

    /// @notice `node` committed batch `batchId` of `count` receipts with Merkle root `root`.
    event BatchCommitted(uint256 indexed batchId, address indexed node, bytes32 root, uint32 count);
    /// @notice Batch `batchId` passed its challenge window with no open dispute.
    event BatchFinalized(uint256 indexed batchId);
    /// @notice `node` started or stopped serving on-chain requests for `modelId`.
    event ServingChanged(bytes32 indexed modelId, address indexed node, bool serving);
    /// @notice `client` requested an inference of `modelId` on `input`, assigned to `node`.
    event InferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed node,
        address client,
        uint256 fee,
        uint64 deadline,
        bytes input
    );
    /// @notice `node` fulfilled request `requestId` with `output` and trace root `traceRoot`.
    event RequestFulfilled(
        uint256 indexed requestId, address indexed node, bytes32 outputHash, bytes32 traceRoot, bytes output
    );
    /// @notice Request `requestId` is final; its fee was credited to its node.
    event RequestFinalized(uint256 indexed requestId, address indexed node, uint256 fee);
    /// @notice Request `requestId`'s fee was refunded to its client (expired or fraudulent).
    event RequestRefunded(uint256 indexed requestId, address indexed client, uint256 fee);
    /// @notice A dispute game opened a dispute on a claim.
    event DisputeOpened(bytes32 indexed claimKey, ClaimSource source, uint256 indexed containerId, address game);
    /// @notice A dispute game closed a dispute on a claim.
    event DisputeClosed(
        bytes32 indexed claimKey, ClaimSource source, uint256 indexed containerId, address game, bool fraud
    );
    /// @notice A claim was proven fraudulent.
    event ClaimSlashed(bytes32 indexed claimKey, ClaimSource source, uint256 indexed containerId, address indexed node);
    /// @notice `account` was credited `amount`.
    event Credited(address indexed account, uint256 amount);
    /// @notice `account` withdrew its credits.
    event CreditsWithdrawn(address indexed account, uint256 amount);

    /// @notice The caller's active stake is below the minimum.
    error NodeNotActive(address node);
    /// @notice A batch must have a non-zero root and at least one receipt.
    error EmptyBatch();
    /// @notice No batch with this id.
    error UnknownBatch(uint256 batchId);
    /// @notice No request with this id.
    error UnknownRequest(uint256 requestId);
    /// @notice The model is not registered.
    error UnknownModel(bytes32 modelId);
    /// @notice The node already serves (or does not serve) the model.
    error ServingUnchanged(bytes32 modelId, address node);
    /// @notice No active node serves the model.
    error NoNodeServing(bytes32 modelId);
    /// @notice The fee is below the minimum.
    error FeeTooLow(uint256 fee, uint256 minimum);
    /// @notice The fee does not fit in 96 bits.
    error FeeTooHigh(uint256 fee);
    /// @notice The input's length differs from the model's input width.
    error WrongInputLength(uint256 expected, uint256 actual);
    /// @notice Array arguments differ in length.
    error LengthMismatch();
    /// @notice The caller is not the node the request is assigned to.
    error NotAssignedNode(uint256 requestId, address caller);
    /// @notice The request is not in the status this call needs.
    error WrongRequestStatus(uint256 requestId, RequestStatus status);
    /// @notice The request's fulfilment deadline has passed.
    error RequestExpired(uint256 requestId, uint64 deadline);
    /// @notice The request's fulfilment deadline has not passed yet.
    error RequestNotExpired(uint256 requestId, uint64 deadline);
    /// @notice The batch is already finalized.
    error BatchAlreadyFinalized(uint256 batchId);
    /// @notice The challenge window is still open.
    error ChallengeWindowOpen(uint64 windowEnd);
    /// @notice The challenge window has closed.
    error ChallengeWindowClosed(uint64 windowEnd);
    /// @notice Disputes on this container are still open.
    error DisputesOpen(uint256 count);
    /// @notice The receipt does not belong to the container (wrong node, fields or proof).
    error InvalidClaim();
    /// @notice The claim was already proven fraudulent.
    error ClaimAlreadySlashed(bytes32 claimKey);
    /// @notice Nothing to withdraw.
    error NothingToWithdraw();
    /// @notice An ETH transfer failed.
    error TransferFailed(address to, uint256 amount);

    modifier onlyActiveNode() {
        if (!stakes.isActiveNode(msg.sender)) revert NodeNotActive(msg.sender);
        _;
    }

    constructor(ModelRegistry registry_, StakeManager stakes_, MarketParams memory params) {
        MarketParamsLib.validate(params);
        registry = registry_;
        stakes = stakes_;
        challengeWindow = params.challengeWindow;
        requestTimeout = params.requestTimeout;
        minRequestFee = params.minRequestFee;
    }

    // ----------------------------------------------------------------------------------------------
    // (b) Off-chain receipts, committed in batches
    // ----------------------------------------------------------------------------------------------

    /// @notice Commits a Merkle root over `count` receipt leaves signed off by the caller's stake.
    /// @return batchId The new batch's id (from 1).
    function commitBatch(bytes32 root, uint32 count) external onlyActiveNode returns (uint256 batchId) {
        if (root == bytes32(0) || count == 0) revert EmptyBatch();
        batchId = ++batchCount;
        _batches[batchId] = Batch({
            root: root,
            node: msg.sender,
            count: count,
            // forge-lint: disable-next-line(unsafe-typecast)
            committedAt: uint40(block.timestamp),
            status: BatchStatus.Committed
        });
        emit BatchCommitted(batchId, msg.sender, root, count);
    }

    /// @notice Finalizes a batch whose challenge window has passed with no open dispute.
    function finalizeBatch(uint256 batchId) external {
        Batch storage b = _batches[batchId];
        if (b.status == BatchStatus.None) revert UnknownBatch(batchId);
        if (b.status == BatchStatus.Finalized) revert BatchAlreadyFinalized(batchId);
        uint64 windowEnd = uint64(b.committedAt) + challengeWindow;
        if (block.timestamp < windowEnd) revert ChallengeWindowOpen(windowEnd);
        uint256 open = openDisputes[ClaimSource.Batch][batchId];
        if (open != 0) revert DisputesOpen(open);
        b.status = BatchStatus.Finalized;
        emit BatchFinalized(batchId);
    }

    /// @notice A committed batch.
    function batch(uint256 batchId) external view returns (Batch memory) {
        Batch memory b = _batches[batchId];
        if (b.status == BatchStatus.None) revert UnknownBatch(batchId);
        return b;
    }

    // ----------------------------------------------------------------------------------------------
    // (a) On-chain requests
    // ----------------------------------------------------------------------------------------------

    /// @notice Makes the caller eligible for assignment of `modelId`'s on-chain requests.
    function serveModel(bytes32 modelId) external onlyActiveNode {
        if (!registry.isRegistered(modelId)) revert UnknownModel(modelId);
        if (_serverSlot[modelId][msg.sender] != 0) revert ServingUnchanged(modelId, msg.sender);
        _servers[modelId].push(msg.sender);
        _serverSlot[modelId][msg.sender] = _servers[modelId].length;
        emit ServingChanged(modelId, msg.sender, true);
    }

    /// @notice Stops assigning new requests of `modelId` to the caller (assigned ones still count).
    function stopServing(bytes32 modelId) external {
        uint256 slot = _serverSlot[modelId][msg.sender];
        if (slot == 0) revert ServingUnchanged(modelId, msg.sender);
        address[] storage serving = _servers[modelId];
        address last = serving[serving.length - 1];
        serving[slot - 1] = last;
        _serverSlot[modelId][last] = slot;
        serving.pop();
        delete _serverSlot[modelId][msg.sender];
        emit ServingChanged(modelId, msg.sender, false);
    }

    /// @notice Nodes that serve `modelId`.
    function servers(bytes32 modelId) external view returns (address[] memory) {
        return _servers[modelId];
    }

    /// @notice Requests an inference of `modelId` on the int8 vector `input`; msg.value is the fee,
    ///         held in escrow. The request goes round-robin to an active node serving the model.
    /// @return requestId The new request's id (from 1).
    function requestInference(bytes32 modelId, bytes calldata input)
        external
        payable
        returns (uint256 requestId)
    {
        if (msg.value < minRequestFee) revert FeeTooLow(msg.value, minRequestFee);
        if (msg.value > type(uint96).max) revert FeeTooHigh(msg.value);
        if (!registry.isRegistered(modelId)) revert UnknownModel(modelId);
        LayerHeader memory first = registry.layerHeader(modelId, 1);
        if (input.length != first.inDim) revert WrongInputLength(first.inDim, input.length);
        address node = _assign(modelId);

        requestId = ++requestCount;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint40 deadline = uint40(block.timestamp + requestTimeout);
        _requests[requestId] = Request({
            client: msg.sender,
            fee: uint96(msg.value),
            node: node,
            status: RequestStatus.Pending,
            deadline: deadline,
            fulfilledAt: 0,
            modelId: modelId,
            inputHash: Commitments.actHash(input),
            resultHash: bytes32(0)
        });
        totalEscrow += msg.value;
        emit InferenceRequested(requestId, modelId, node, msg.sender, msg.value, deadline, input);
    }

    /// @notice Fulfils several requests assigned to the caller in one transaction.
    /// @param requestIds The requests, each Pending and before its deadline.
    /// @param outputs The int8 output vector of each.
    /// @param traceRoots The trace root of each (docs/protocol.md).
    function fulfil(uint256[] calldata requestIds, bytes[] calldata outputs, bytes32[] calldata traceRoots)
        external
        onlyActiveNode
    {
        uint256 n = requestIds.length;
        if (outputs.length != n || traceRoots.length != n) revert LengthMismatch();
        for (uint256 i; i < n; ++i) {
            uint256 id = requestIds[i];
            Request storage r = _requests[id];
            if (r.node != msg.sender) {
                if (r.status == RequestStatus.None) revert UnknownRequest(id);
                revert NotAssignedNode(id, msg.sender);
            }
            if (r.status != RequestStatus.Pending) revert WrongRequestStatus(id, r.status);
            if (block.timestamp > r.deadline) revert RequestExpired(id, r.deadline);
            bytes32 outputHash = Commitments.actHash(outputs[i]);
            r.status = RequestStatus.Fulfilled;
            // forge-lint: disable-next-line(unsafe-typecast)
            r.fulfilledAt = uint40(block.timestamp);
            r.resultHash = Commitments.resultHash(outputHash, traceRoots[i]);
            emit RequestFulfilled(id, msg.sender, outputHash, traceRoots[i], outputs[i]);
        }
    }

    /// @notice Refunds the fee of a request whose node missed the fulfilment deadline.
    function refundExpired(uint256 requestId) external {
        Request storage r = _request(requestId);
        if (r.status != RequestStatus.Pending) revert WrongRequestStatus(requestId, r.status);
        if (block.timestamp <= r.deadline) revert RequestNotExpired(requestId, r.deadline);
        r.status = RequestStatus.Refunded;
        _releaseEscrowTo(r.client, r.fee);
        emit RequestRefunded(requestId, r.client, r.fee);
    }

    /// @notice Finalizes fulfilled requests whose windows passed with no open dispute, crediting each
    ///         fee to its node. Reverts (changing nothing) if any of them is not ready.
    function finalizeRequests(uint256[] calldata requestIds) external {
        for (uint256 i; i < requestIds.length; ++i) {
            uint256 id = requestIds[i];
            Request storage r = _request(id);
            if (r.status != RequestStatus.Fulfilled) revert WrongRequestStatus(id, r.status);
            uint64 windowEnd = uint64(r.fulfilledAt) + challengeWindow;
            if (block.timestamp < windowEnd) revert ChallengeWindowOpen(windowEnd);
            uint256 open = openDisputes[ClaimSource.Request][id];
            if (open != 0) revert DisputesOpen(open);
            r.status = RequestStatus.Finalized;
            _releaseEscrowTo(r.node, r.fee);
            emit RequestFinalized(id, r.node, r.fee);
        }
    }

    /// @notice An on-chain request.
    function request(uint256 requestId) external view returns (Request memory) {
        return _request(requestId);
    }

    // ----------------------------------------------------------------------------------------------
    // Claims, for dispute games
    // ----------------------------------------------------------------------------------------------

    /// @notice Authenticates a claim: the receipt is in the batch (or matches the fulfilled request).
    /// @dev Reverts with InvalidClaim, UnknownBatch or UnknownRequest. Says nothing about the window.
    function authenticate(ClaimRef calldata ref) public view returns (Claim memory c) {
        Receipt calldata rc = ref.receipt;
        bytes32 leaf = Commitments.receiptLeaf(rc);
        uint64 committedAt;
        if (ref.source == ClaimSource.Batch) {
            Batch storage b = _batches[ref.containerId];
            if (b.status == BatchStatus.None) revert UnknownBatch(ref.containerId);
            if (rc.node != b.node || !MerkleProof.verifyCalldata(ref.inclusionProof, b.root, leaf)) {
                revert InvalidClaim();
            }
            committedAt = b.committedAt;
        } else {
            Request storage r = _request(ref.containerId);
            if (r.fulfilledAt == 0) revert WrongRequestStatus(ref.containerId, r.status);
            if (
                rc.requestId != ref.containerId || rc.modelId != r.modelId || rc.inputHash != r.inputHash
                    || rc.node != r.node || rc.client != r.client
                    || Commitments.resultHash(rc.outputHash, rc.traceRoot) != r.resultHash
            ) revert InvalidClaim();
            committedAt = r.fulfilledAt;
        }
        c = Claim({
            key: Commitments.claimKey(ref.source, ref.containerId, leaf),
            source: ref.source,
            containerId: ref.containerId,
            node: rc.node,
            modelId: rc.modelId,
            traceRoot: rc.traceRoot,
            windowEnd: committedAt + challengeWindow
        });
    }

    /// @notice Opens a dispute on a claim inside its window; the claim's container cannot finalize
    ///         until `endDispute`.
    function beginDispute(ClaimRef calldata ref) external onlyDisputeGame returns (Claim memory c) {
        c = _disputable(ref);
        openDisputes[c.source][c.containerId] += 1;
        emit DisputeOpened(c.key, c.source, c.containerId, msg.sender);
    }

    /// @notice Closes a dispute opened by `beginDispute`; if `fraud`, marks the claim fraudulent.
    /// @return newlyFraudulent True if this call marked the claim (so the game slashes exactly once).
    function endDispute(Claim calldata c, bool fraud) external onlyDisputeGame returns (bool newlyFraudulent) {
        openDisputes[c.source][c.containerId] -= 1;
        emit DisputeClosed(c.key, c.source, c.containerId, msg.sender, fraud);
        if (fraud && !fraudulent[c.key]) {
            _markFraudulent(c);
            return true;
        }
        return false;
    }

    /// @notice Marks a claim fraudulent in one step (a fraud proof already checked on-chain).
    function recordFraud(ClaimRef calldata ref) external onlyDisputeGame returns (Claim memory c) {
        c = _disputable(ref);
        _markFraudulent(c);
    }

    // ----------------------------------------------------------------------------------------------
    // Credits
    // ----------------------------------------------------------------------------------------------

    /// @notice Sends the caller all its credits (fees earned, refunds).
    function withdrawCredits() external nonReentrant {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender] = 0;
        totalCredits -= amount;
        emit CreditsWithdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // ----------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------

    function _request(uint256 requestId) private view returns (Request storage r) {
        r = _requests[requestId];
        if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
    }

    function _disputable(ClaimRef calldata ref) private view returns (Claim memory c) {
        c = authenticate(ref);
        if (block.timestamp >= c.windowEnd) revert ChallengeWindowClosed(c.windowEnd);
        if (fraudulent[c.key]) revert ClaimAlreadySlashed(c.key);
    }

    function _markFraudulent(Claim memory c) private {
        fraudulent[c.key] = true;
        emit ClaimSlashed(c.key, c.source, c.containerId, c.node);
        if (c.source == ClaimSource.Request) {
            Request storage r = _requests[c.containerId];
            r.status = RequestStatus.Slashed;
            _releaseEscrowTo(r.client, r.fee);
            emit RequestRefunded(c.containerId, r.client, r.fee);
        }
    }

    function _assign(bytes32 modelId) private returns (address) {
        address[] storage candidates = _servers[modelId];
        uint256 n = candidates.length;
        uint256 cursor = _assignCursor[modelId];
        for (uint256 tried; tried < n; ++tried) {
            address node = candidates[(cursor + tried) % n];
            if (stakes.isActiveNode(node)) {
                _assignCursor[modelId] = cursor + tried + 1;
                return node;
            }
        }
        revert NoNodeServing(modelId);
    }

    function _releaseEscrowTo(address account, uint256 amount) private {
        totalEscrow -= amount;
        credits[account] += amount;
        totalCredits += amount;
        emit Credited(account, amount);
    }
}
