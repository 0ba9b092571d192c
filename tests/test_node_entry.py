"""The node commands without a ROS 2 runtime: one line that says how to get one, exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("entry", ["depth_node", "obstacle_avoidance"])
def test_without_rclpy_one_line_and_exit_2(entry: str) -> None:
    code = f"import sys; sys.modules['rclpy'] = None; from depth_node.node_main import {entry}; {entry}()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"{entry}: no ROS 2 Python runtime") and "depth_node[ros]" in lines[0]
