"""
Shared fixtures.

Integration tests run against a real Anvil node that the tests start and stop themselves (CI has
nothing running) and the real compiled contracts:

- ``anvil`` (session): one automining :class:`deploy.anvil.AnvilNode` (no request-size limit);
- ``compiled`` (session): the contracts plus the Solidity test doubles (``contracts/test/doubles``);
- ``chain_session`` (session): the marketplace deployed once with the ``local`` preset, the
  ToggleVerifier test double deployed beside it, and an ``evm_snapshot`` of that state;
- ``chain`` (function): a :class:`tests.integration.chain_env.ChainEnv` on a clean chain. After the
  test the chain is ``evm_revert``-ed to the snapshot (clock included) and snapshotted again, since
  a snapshot id is consumed by its revert;
- role clients (``deployer`` key 0, ``node`` 1, ``challenger`` 2, ``client`` 3, ``challenger2`` 4,
  ``model_owner`` 5) and ``advance(seconds)`` (``evm_increaseTime`` + ``evm_mine``).

Every test that uses the chain is marked ``anvil`` (automatically, from the fixtures it uses); it is
skipped with the reason when no Anvil binary is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from deploy import paths
from deploy.anvil import AnvilNode
from deploy.compiler import CompiledContract, compile_contracts
from deploy.deployer import Preset, deploy_marketplace, load_preset
from opzk.chain import ChainClient
from protocol.model import QuantizedModel
from tests import factories
from tests.integration.chain_env import ROLE_KEYS, ChainEnv, Session, role_client

CHAIN_FIXTURES = frozenset(
    {"anvil", "chain_session", "chain", *ROLE_KEYS, "model_owner", "advance"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the chain with ``anvil``."""
    for item in items:
        if CHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.anvil)


# --------------------------------------------------------------------------------------------------
# Pure data


@pytest.fixture(scope="session")
def public_model() -> QuantizedModel:
    """The small all-public model (36 → 12 → 8 → 4)."""
    return factories.public_model()


@pytest.fixture(scope="session")
def sensitive_model() -> QuantizedModel:
    """The 4-layer model with sensitive partition 1 = layers 2..3."""
    return factories.sensitive_model()


@pytest.fixture(scope="session")
def local_preset() -> Preset:
    return load_preset("local")


@pytest.fixture(scope="session")
def compiled() -> dict[str, CompiledContract]:
    """The project's contracts and the test doubles (compiled once, cached under build/)."""
    return compile_contracts(extra_dirs=[paths.contracts_test_doubles_dir()])


# --------------------------------------------------------------------------------------------------
# The chain


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    """One automining Anvil node for the whole session, stopped at the end."""
    try:
        paths.anvil_binary()
    except paths.ToolNotFoundError as error:
        pytest.skip(str(error))
    # Without Anvil's 2 MB request-body limit: the requant differential test sends >10,000 cases in
    # one eth_call.
    with AnvilNode(extra_args=["--no-request-size-limit"]) as node:
        yield node


@pytest.fixture(scope="session")
def chain_session(
    anvil: AnvilNode, compiled: dict[str, CompiledContract], local_preset: Preset
) -> Session:
    """The marketplace deployed once, plus the ToggleVerifier double, snapshotted."""
    clients = {role: role_client(anvil.rpc_url, role) for role in ROLE_KEYS}
    deployer = clients["deployer"]
    deployment = deploy_marketplace(deployer, local_preset, compiled=compiled)
    contracts = {
        name: deployer.contract(deployment.address(name), deployment.abis[name])
        for name in deployment.addresses
    }
    toggle_abi = compiled["ToggleVerifier"].abi
    toggle_address, _ = deployer.deploy(toggle_abi, compiled["ToggleVerifier"].bytecode)
    session = Session(
        anvil=anvil,
        compiled=compiled,
        preset=local_preset,
        deployment=deployment,
        clients=clients,
        contracts=contracts,
        toggle=deployer.contract(toggle_address, toggle_abi),
    )
    session.base_block = int(anvil.rpc("eth_blockNumber"), 16)
    session.take_snapshot()
    return session


@pytest.fixture
def chain(chain_session: Session) -> Iterator[ChainEnv]:
    """A clean chain with the marketplace deployed; reverted after the test."""
    try:
        yield ChainEnv(chain_session)
    finally:
        chain_session.revert()


@pytest.fixture
def advance(chain: ChainEnv) -> Callable[[int], int]:
    """``advance(seconds)``: move the chain clock forward and mine; returns the new timestamp."""
    return chain.advance


@pytest.fixture
def deployer(chain: ChainEnv) -> ChainClient:
    return chain.deployer


@pytest.fixture
def node(chain: ChainEnv) -> ChainClient:
    return chain.node


@pytest.fixture
def challenger(chain: ChainEnv) -> ChainClient:
    return chain.challenger


@pytest.fixture
def client(chain: ChainEnv) -> ChainClient:
    return chain.client


@pytest.fixture
def challenger2(chain: ChainEnv) -> ChainClient:
    return chain.challenger2


@pytest.fixture
def model_owner(chain: ChainEnv) -> ChainClient:
    return chain.owner
