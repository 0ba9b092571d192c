"""A test-side rclpy node and the package's nodes started as ``ros2 run`` starts them, over real DDS.

Each test session gets its own DDS domain (a random ``ROS_DOMAIN_ID``, discovery limited to this host), and
each started node its own namespace, so tests neither see each other's topics nor another run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
SHARED = ROOT.parent / "shared"


def executable(name: str) -> Path:
    """A console script of this venv (what ``ros2 run depth_node NAME`` runs)."""
    return Path(sys.executable).parent / name


class NodeProcess:
    """One of the package's nodes in its own process; its output goes to a file for the failure message."""

    def __init__(self, command: Sequence[str | Path], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [str(c) for c in command],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def output(self) -> str:
        """Everything the process printed so far."""
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 15.0, group: bool = False) -> int:
        """SIGINT (Ctrl-C; to the whole process group with ``group``), then wait; the exit code (-9: it hung)."""
        if self.proc.poll() is None:
            if group:
                os.killpg(self.proc.pid, signal.SIGINT)
            else:
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                return -9
        self._out.close()
        return self.proc.returncode

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the process to end by itself; returns its exit code."""
        code = self.proc.wait(timeout)
        self._out.close()
        return code


class Harness:
    """The test's own rclpy node, with helpers to publish, collect and wait."""

    def __init__(self, tmp: Path) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.tmp = tmp
        self.context = rclpy.context.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("depth_node_tests", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._namespaces = 0
        self.processes: list[NodeProcess] = []

    def close(self) -> None:
        """Stop what is still running and shut this node down."""
        for proc in self.processes:
            proc.stop()
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()

    def namespace(self) -> str:
        """A fresh namespace for one started node, so no test sees another's topics."""
        self._namespaces += 1
        return f"/t{os.getpid()}_{self._namespaces}"

    def start(
        self,
        name: str,
        namespace: str,
        *ros_args: str,
        params_file: Path | None = None,
        env: dict[str, str] | None = None,
        node_args: Sequence[str] = (),
    ) -> NodeProcess:
        """Start one of the package's nodes with ``--ros-args`` (params file, namespace, extra args).

        ``node_args`` go before ``--ros-args`` (the node's own flags, e.g. ``--managed``).
        """
        args = [*node_args, "--ros-args", "-r", f"__ns:={namespace}"]
        if params_file is not None:
            args += ["--params-file", str(params_file)]
        args += list(ros_args)
        proc = NodeProcess([executable(name), *args], self.tmp / f"{name}{namespace.replace('/', '_')}.log", env)
        self.processes.append(proc)
        return proc

    def stop(self, proc: NodeProcess) -> int:
        """Ctrl-C one started node; returns its exit code."""
        self.processes.remove(proc)
        return proc.stop()

    def spin_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Spin the test node until ``condition()`` holds; False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            self.executor.spin_once(timeout_sec=0.02)
        return condition()

    def spin_for(self, seconds: float) -> None:
        """Spin the test node for a while (collect what arrives)."""
        self.spin_until(lambda: False, seconds)

    def qos(self, reliable: bool = True, depth: int = 10) -> Any:
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

        return QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=depth,
            reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        )

    def collect(self, msg_type: Any, topic: str, reliable: bool = True) -> list[Any]:
        """Subscribe ``topic``; the returned list fills as messages arrive (while spinning)."""
        received: list[Any] = []
        self.node.create_subscription(msg_type, topic, received.append, self.qos(reliable))
        return received

    def publisher(self, msg_type: Any, topic: str, reliable: bool = True, depth: int = 10) -> Any:
        """A publisher of the test node."""
        return self.node.create_publisher(msg_type, topic, self.qos(reliable, depth))

    def wait_matched(self, publisher: Any, count: int = 1, timeout: float = 15.0) -> None:
        """Wait until ``publisher`` has ``count`` subscriptions matched (the started node is listening)."""
        assert self.spin_until(lambda: publisher.get_subscription_count() >= count, timeout), (
            f"no subscriber on {publisher.topic_name} after {timeout} s:\n" + self.started_output()
        )

    def started_output(self) -> str:
        """The output of every started node, for assertion messages."""
        return "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in self.processes)

    def diagnostics(self, received: list[Any], node_fqn: str) -> dict[str, str]:
        """The latest key/values of the DiagnosticStatus a node published (empty if none yet)."""
        for msg in reversed(received):
            for status in msg.status:
                if status.name.startswith(node_fqn + ":"):
                    return {kv.key: kv.value for kv in status.values}
        return {}
