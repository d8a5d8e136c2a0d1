// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title DisputeGameRoles
/// @notice The dispute games a contract trusts, fixed once at deployment: the deployer names them in
///         one call, and nobody can change the set afterwards (there is no admin).
abstract contract DisputeGameRoles {
    /// @notice The account that deployed the contract; the only one that may wire the games.
    address public immutable deployer;
    /// @notice Whether `game` is one of the wired dispute games.
    mapping(address game => bool) public isDisputeGame;
    /// @notice Whether the games were wired (the call can happen once).
    bool public wired;

    /// @notice The dispute games were wired.
    event DisputeGamesWired(address[] games);

    /// @notice Caller is not a wired dispute game.
    error NotDisputeGame(address caller);
    /// @notice Only the deployer may wire, and only once.
    error NotDeployer(address caller);
    /// @notice The dispute games were already wired.
    error AlreadyWired();

    modifier onlyDisputeGame() {
        if (!isDisputeGame[msg.sender]) revert NotDisputeGame(msg.sender);
        _;
    }

    constructor() {
        deployer = msg.sender;
    }

    /// @notice Gives the dispute-game role to `games`; callable once, by the deployer.
    function wireDisputeGames(address[] calldata games) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        if (wired) revert AlreadyWired();
        wired = true;
        for (uint256 i; i < games.length; ++i) {
            isDisputeGame[games[i]] = true;
        }
        emit DisputeGamesWired(games);
    }
}
