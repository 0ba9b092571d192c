"""Fixtures of the tests through the live ROS 2 graph: an isolated DDS domain and the test's rclpy node.

These tests need a ROS 2 Python runtime (``make test`` installs the Jazzy wheels into .venv); each test
module skips with ``pytest.importorskip("rclpy")`` when there is none.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ros.harness import Harness


@pytest.fixture(scope="session")
def ros_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of this test session: its own DDS domain, discovery on this host only, a log directory."""
    values = {
        "ROS_DOMAIN_ID": str(random.SystemRandom().randint(1, 200)),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_LOG_DIR": str(tmp_path_factory.mktemp("ros_log")),
        "RCUTILS_COLORIZED_OUTPUT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    yield dict(os.environ)
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


@pytest.fixture(scope="module")
def ros(ros_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The test's rclpy node (one per test module) and the processes it started."""
    harness = Harness(Path(tmp_path_factory.mktemp("ros")))
    yield harness
    harness.close()
