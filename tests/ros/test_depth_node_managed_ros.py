"""depth_node as a managed (lifecycle) node and its live tuning, through the live ROS 2 graph.

The transitions are asked for over the node's ``change_state`` service and the parameters set over its
``set_parameters`` service, exactly as ``ros2 lifecycle set``, nav2_lifecycle_manager and ``ros2 param set``
do. A window without output is the one place a test waits a fixed time: absence can only be seen that way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rclpy")
pytest.importorskip("lifecycle_msgs")

from sensor_msgs.msg import CameraInfo, Image, PointCloud2

from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, Harness, NodeProcess
from tests.ros.services import NodeServices
from tests.test_nav2_example import example_topics

PARAMS = CONFIG / "depth_node.yaml"
QUIET_S = 1.5  # how long "nothing comes" is watched for


class Managed:
    """A depth_node started with ``--managed``, its services and the test's camera publishers."""

    def __init__(self, ros: Harness) -> None:
        self.ros = ros
        self.ns = ros.namespace()
        self.proc: NodeProcess = ros.start("depth_node", self.ns, params_file=PARAMS, node_args=["--managed"])
        self.services = NodeServices(ros, f"{self.ns}/depth_node")
        self.frames = Frames()
        self.pub_image = ros.publisher(Image, f"{self.ns}/image_raw")
        self.pub_info = ros.publisher(CameraInfo, f"{self.ns}/camera_info")
        self.depth = ros.collect(Image, f"{self.ns}/depth/image_raw")
        self.cloud = ros.collect(PointCloud2, f"{self.ns}/depth/points")

    def send_until_output(self, timeout: float = 30.0) -> None:
        """Publish a frame every 0.3 s until depth comes back."""
        self.depth.clear()
        assert self.ros.spin_until(lambda: self.pub_image.get_subscription_count() > 0, 15.0), self.proc.output()
        for _ in range(round(timeout / 0.3)):
            self.pub_info.publish(self.frames.info())
            self.pub_image.publish(self.frames.image())
            if self.ros.spin_until(lambda: len(self.depth) > 0, 0.3):
                return
        raise AssertionError("no depth from the managed depth_node:\n" + self.proc.output()[-3000:])

    def quiet(self) -> list[Image]:
        """Feed frames for QUIET_S and return the depth images of those frames that came back (none expected).

        Only depth stamped with a frame fed here counts: on a loaded machine the depth of a frame sent before the
        transition can still be on its way, and that one was rightly published.
        """
        self.depth.clear()
        first = self.frames.stamp_ns  # the frames fed here are stamped after it
        for _ in range(round(QUIET_S / 0.1)):
            self.pub_info.publish(self.frames.info())
            self.pub_image.publish(self.frames.image())
            self.ros.spin_for(0.1)
        stamp = lambda d: d.header.stamp.sec * 1_000_000_000 + d.header.stamp.nanosec  # noqa: E731
        return [d for d in self.depth if stamp(d) > first]


@pytest.fixture(scope="module")
def managed(ros: Harness) -> Iterator[Managed]:
    node = Managed(ros)
    yield node
    assert ros.stop(node.proc) == 0, node.proc.output()


def test_unconfigured_until_configured_silent_until_activated(managed: Managed) -> None:
    s = managed.services
    assert s.state() == "unconfigured"
    assert managed.ros.node.count_publishers(f"{managed.ns}/depth/image_raw") == 0  # nothing built yet
    assert s.get("decimation") == 1  # but its parameters are declared
    assert s.transition("configure") and s.state() == "inactive"
    assert managed.ros.spin_until(lambda: managed.ros.node.count_publishers(f"{managed.ns}/depth/image_raw") == 1)
    assert managed.quiet() == []  # inactive: frames are ignored, nothing is published
    assert s.transition("activate") and s.state() == "active"
    managed.send_until_output()
    names = {n for n, _ in managed.ros.node.get_publisher_names_and_types_by_node("depth_node", managed.ns)}
    assert f"{managed.ns}/depth/points" in names and "/depth/points" in example_topics()  # what Nav2 is fed


def test_deactivate_silences_it_and_cleanup_then_configure_starts_it_again(managed: Managed) -> None:
    s = managed.services
    if s.state() != "active":
        assert s.transition("configure") or s.state() == "inactive"
        assert s.transition("activate")
    managed.send_until_output()
    assert s.transition("deactivate") and s.state() == "inactive"
    assert managed.quiet() == []
    assert s.transition("cleanup") and s.state() == "unconfigured"
    gone = lambda: managed.ros.node.count_publishers(f"{managed.ns}/depth/image_raw") == 0  # noqa: E731
    assert managed.ros.spin_until(gone), "cleanup left the publisher behind"
    assert not s.transition("activate")  # not from unconfigured
    assert s.transition("configure") and s.transition("activate")
    managed.send_until_output()


def test_live_tuning_changes_the_next_cloud_and_refuses_with_a_reason(managed: Managed) -> None:
    s = managed.services
    if s.state() != "active":
        assert s.state() == "inactive" or s.transition("configure")
        assert s.transition("activate")
    managed.send_until_output()
    assert s.set("decimation", 4) == (True, "")
    assert s.get("decimation") == 4
    managed.cloud.clear()
    managed.send_until_output()
    assert managed.ros.spin_until(lambda: any(c.width == 160 for c in managed.cloud), 10.0), [
        (c.width, c.height) for c in managed.cloud
    ]
    ok, reason = s.set("decimation", 0)  # below the dataclass's min_value 1
    assert not ok and "decimation" in reason and "range" in reason
    ok, reason = s.set("colored_max_m", float("nan"))
    assert not ok and "colored_max_m" in reason
    ok, reason = s.set("floor_scale_mode", "cubic")  # not one of the choices
    assert not ok and "floor_scale_mode" in reason and "scale" in reason
    assert s.get("decimation") == 4 and s.get("floor_scale_mode") == "scale"
    ok, reason = s.set("model_path", "/elsewhere.onnx")  # structural: read-only
    assert not ok and "read-only" in reason
    descriptor = s.describe("model_path")
    assert descriptor.read_only and "restart the node" in descriptor.description
    assert not s.describe("decimation").read_only
    np.testing.assert_equal(s.get("model_path"), "")


def test_a_failed_configure_leaves_it_unconfigured_and_alive(ros: Harness, tmp_path: Path) -> None:
    ns = ros.namespace()
    missing = tmp_path / "missing.onnx"
    proc = ros.start("depth_node", ns, "-p", f"model_path:={missing}", params_file=PARAMS, node_args=["--managed"])
    s = NodeServices(ros, f"{ns}/depth_node")
    assert not s.transition("configure")  # the model is loaded at configure: it is not there
    assert s.state() == "unconfigured"
    assert ros.spin_until(lambda: "configure failed" in proc.output() and str(missing) in proc.output())
    assert s.set("decimation", 2) == (True, "")  # the node lives on and answers
    assert ros.stop(proc) == 0, proc.output()
