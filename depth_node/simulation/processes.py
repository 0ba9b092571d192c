"""Start and stop the shipped nodes as ``ros2 run`` does: their console scripts with ``--ros-args``.

The console scripts are looked up next to the running interpreter first (a venv's ``bin/``, where pip puts
them), then on ``PATH`` (a colcon install that was sourced). Each node writes its output to a log file in
the run's directory; it is stopped with SIGINT, as launch does, and killed only if it does not exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from depth_node.errors import DepthNodeError

NODE_SCRIPTS = ("depth_node", "obstacle_avoidance")


class GraphError(DepthNodeError):
    """The ROS graph of a simulation could not be started or did not answer."""

    reason = "ros_graph"


def console_script(name: str) -> str:
    """The path of a console script: beside ``sys.executable`` (the venv), else on PATH.

    Raises:
        GraphError: not installed.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise GraphError(f"console script '{name}' not found beside {sys.executable} or on PATH (pip install -e .)")
    return found


def ros_env(log_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the nodes: the caller's (ROS_DOMAIN_ID and discovery settings included), with a log
    directory (rclpy cannot initialise without HOME or ROS_LOG_DIR) and unbuffered Python output."""
    env = dict(os.environ if base is None else base)
    env.setdefault("ROS_LOG_DIR", str(log_dir))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class NodeProcess:
    """One running node."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGINT (a clean ROS shutdown), then SIGKILL after ``timeout_s``; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)

    def tail(self, lines: int = 15) -> str:
        """The last lines of the node's log (for an error message)."""
        self._log.flush()
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def start_node(
    name: str, params_file: Path, log_dir: Path, env: dict[str, str], remaps: tuple[str, ...] = ()
) -> NodeProcess:
    """Start one node: ``NAME --ros-args --params-file FILE -p use_sim_time:=true [-r from:=to ...]``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    argv = [console_script(name), "--ros-args", "--params-file", str(params_file), "-p", "use_sim_time:=true"]
    for remap in remaps:
        argv += ["-r", remap]
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return NodeProcess(name, process, log_path, log)
