"""The reliability a subscription picks from its publishers' offers."""

from __future__ import annotations

import pytest

pytest.importorskip("rclpy")

from rclpy.qos import ReliabilityPolicy

from depth_node.node_qos import wanted_reliability

RELIABLE, BEST_EFFORT = ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT


def test_reliable_only_when_every_publisher_is() -> None:
    assert wanted_reliability([]) is None
    assert wanted_reliability([RELIABLE, RELIABLE]) == RELIABLE
    assert wanted_reliability([RELIABLE, BEST_EFFORT]) == BEST_EFFORT
    assert wanted_reliability([BEST_EFFORT]) == BEST_EFFORT


def test_transient_local_only_when_every_publisher_latches() -> None:
    from rclpy.qos import DurabilityPolicy

    from depth_node.node_qos import wanted_durability

    latched, volatile = DurabilityPolicy.TRANSIENT_LOCAL, DurabilityPolicy.VOLATILE
    assert wanted_durability([]) is None
    assert wanted_durability([latched]) == latched
    assert wanted_durability([latched, volatile]) == volatile
    assert wanted_durability([volatile]) == volatile
