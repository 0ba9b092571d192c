"""Measure depth_node through the live graph: latency, output rate, CPU, and what best effort loses.

Starts ``depth_node`` (this venv's console script, the shipped params) in an isolated DDS domain, publishes
640x480 rgb8 frames at 10 Hz with the current time as stamp, and reports per phase:

* latency from the publish (the stamp) to the arrival of depth/image_raw: p50 and p95, ms;
* depth frames out per second, and the node process's CPU (user + system time / wall time, %);
* the frames the node counted (processed + dropped_busy + ...): with a reliable camera none is lost.

Phases: depth only; depth + a cloud subscriber; and a best-effort camera with the node pinned to
best_effort, which shows the frames DDS drops before the node sees them.

Usage: python tools/latency_node.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(seconds: float, cloud: bool, best_effort: bool) -> dict[str, Any]:
    """One run of the node with one kind of camera and subscribers."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image, PointCloud2

    from depth_node.camera import CameraModel
    from depth_node.msgs import MessageSet

    args = [str(Path(sys.executable).parent / "depth_node"), "--ros-args", "-r", "__ns:=/bench"]
    args += ["--params-file", str(ROOT / "config" / "depth_node.yaml"), "-p", "diagnostics_period_s:=0.5"]
    if best_effort:
        args += ["-p", "qos_reliability:=best_effort"]
    node_proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = rclpy.context.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("latency_bench", context=ctx)
    executor = rclpy.executors.SingleThreadedExecutor(context=ctx)
    executor.add_node(node)
    reliability = ReliabilityPolicy.BEST_EFFORT if best_effort else ReliabilityPolicy.RELIABLE
    qos = QoSProfile(depth=10, reliability=reliability)
    m = MessageSet.from_rclpy()
    pub = node.create_publisher(Image, "/bench/image_raw", qos)
    pub_info = node.create_publisher(CameraInfo, "/bench/camera_info", 10)
    latencies: list[float] = []
    arrivals: list[float] = []
    counts: dict[str, int] = {}

    def on_depth(msg: Any) -> None:
        now = node.get_clock().now().nanoseconds
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        latencies.append((now - stamp) / 1e6)
        arrivals.append(time.monotonic())

    def on_diag(msg: Any) -> None:
        for status in msg.status:
            if status.name.startswith("/bench/depth_node"):
                counts.clear()
                counts.update({kv.key: int(kv.value) for kv in status.values if kv.key != "processing_ms_p50"})

    node.create_subscription(Image, "/bench/depth/image_raw", on_depth, 10)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, 10)
    if cloud:
        node.create_subscription(PointCloud2, "/bench/depth/points", lambda _: None, 10)
    end = time.monotonic() + 30
    while pub.get_subscription_count() == 0 and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    cam = CameraModel(640, 480, 457.0, 457.0, 319.5, 239.5)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    for _ in range(10):  # warm-up: the first inference builds the session's buffers
        header = m.header(node.get_clock().now().nanoseconds, "camera")
        pub_info.publish(m.camera_info(cam, header))
        pub.publish(m.image(pixels, "rgb8", header))
        executor.spin_once(timeout_sec=0.1)
    time.sleep(1.0)
    latencies.clear()
    arrivals.clear()
    executor.spin_once(timeout_sec=0.6)
    base = sum(counts.values())
    cpu0, t0 = _cpu_seconds(node_proc.pid), time.monotonic()
    sent = 0
    next_t = time.monotonic()
    while time.monotonic() - t0 < seconds:
        header = m.header(node.get_clock().now().nanoseconds, "camera")
        pub_info.publish(m.camera_info(cam, header))
        pub.publish(m.image(pixels, "rgb8", header))
        sent += 1
        next_t += 0.1
        while time.monotonic() < next_t:
            executor.spin_once(timeout_sec=max(0.0, next_t - time.monotonic()))
    wall = time.monotonic() - t0
    cpu = _cpu_seconds(node_proc.pid) - cpu0
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    node_proc.send_signal(signal.SIGINT)
    node_proc.wait(15)
    node.destroy_node()
    ctx.try_shutdown()
    lat = np.array(latencies)
    return {
        "camera": "best_effort" if best_effort else "reliable",
        "cloud_subscriber": cloud,
        "frames_sent": sent,
        "frames_counted_by_node": sum(counts.values()) - base,
        "counts": counts,
        "depth_out_hz": round(len(arrivals) / wall, 2),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 1) if lat.size else None,
        "node_cpu_percent": round(100.0 * cpu / wall, 1),
    }


def main() -> int:
    """Run the three phases and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    args = parser.parse_args()
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 200)))
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="ros_latency_"))
    results = [
        phase(args.seconds, cloud=False, best_effort=False),
        phase(args.seconds, cloud=True, best_effort=False),
        phase(args.seconds, cloud=False, best_effort=True),
    ]
    print(json.dumps({"load_avg_1min": os.getloadavg()[0], "phases": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
