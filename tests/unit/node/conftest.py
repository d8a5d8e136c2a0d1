"""Fixtures of the node's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.node.helpers import Node, build_node, running


@pytest.fixture
def node(tmp_path: Path) -> Node:
    """A node over a fresh database, serving the public, sensitive and digits models."""
    return build_node(tmp_path)


@pytest.fixture
def api(node: Node) -> Iterator[TestClient]:
    """A started test client of ``node``."""
    with running(node) as client:
        yield client
