"""The package as a ROS user gets it: a plain ``colcon build`` install, and its launch files run by launch.

The launch tests need the launch/launch_ros sources of ../shared/ros2 installed (``make test`` does that
where they are) and skip without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("rclpy")

from geometry_msgs.msg import Twist
from rcl_interfaces.srv import GetParameters
from sensor_msgs.msg import CameraInfo, Image

from tests.ros.frames import Frames
from tests.ros.harness import CONFIG, ROOT, Harness, NodeProcess

SITE = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


class Install:
    """A colcon install of the package in a temporary workspace, and the environment that sources it."""

    def __init__(self, base: Path, ros_env: dict[str, str]) -> None:
        self.prefix = base / "install" / "depth_node"
        command = [Path(sys.executable).parent / "colcon", "--log-base", base / "log", "build", "--paths", ROOT]
        command += ["--build-base", base / "build", "--install-base", base / "install"]
        env = dict(ros_env, AMENT_PREFIX_PATH=sys.prefix)
        done = subprocess.run([str(c) for c in command], cwd=base, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        # what `source install/setup.bash` sets
        self.env = dict(
            ros_env,
            AMENT_PREFIX_PATH=f"{self.prefix}{os.pathsep}{sys.prefix}",
            PYTHONPATH=str(self.prefix / SITE),
        )

    def executable(self, name: str) -> Path:
        """What ``ros2 run depth_node NAME`` runs."""
        return self.prefix / "lib" / "depth_node" / name


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory, ros_env: dict[str, str]) -> Install:
    return Install(tmp_path_factory.mktemp("colcon_ws"), ros_env)


def get_parameters(ros: Harness, node: str, names: list[str]) -> list[object]:
    """Parameter values of a running node, through its get_parameters service."""
    client = ros.node.create_client(GetParameters, f"{node}/get_parameters")
    assert client.wait_for_service(timeout_sec=20.0), f"no {node}/get_parameters"
    future = client.call_async(GetParameters.Request(names=names))
    assert ros.spin_until(future.done)
    values = []
    for v in future.result().values:
        values.append([None, v.bool_value, v.integer_value, v.double_value, v.string_value][min(v.type, 4)])
    ros.node.destroy_client(client)
    return values


def test_colcon_install_finds_the_shipped_model(ros: Harness, install: Install) -> None:
    ns = ros.namespace()
    proc = NodeProcess(
        [install.executable("depth_node"), "--ros-args", "-r", f"__ns:={ns}"], ros.tmp / "colcon_node.log", install.env
    )
    ros.processes.append(proc)
    assert ros.spin_until(lambda: "depth model" in proc.output(), 30.0), proc.output()
    model = install.prefix / "share" / "depth_node" / "models" / "fastdepth_synthetic.onnx"
    assert f"depth model {model} on" in proc.output()
    ros.processes.remove(proc)
    assert proc.stop() == 0
    cli = subprocess.run(
        [str(install.executable("depth-node")), "--help"], env=install.env, capture_output=True, text=True, check=False
    )
    assert cli.returncode == 0 and "predict" in cli.stdout


@pytest.fixture
def launch_available() -> None:
    pytest.importorskip("launch_ros.actions", reason="launch/launch_ros not installed (../shared/ros2 absent)")


def start_launch(ros: Harness, install: Install, file: str, *arguments: str) -> NodeProcess:
    runner = Path(__file__).with_name("launch_runner.py")
    path = install.prefix / "share" / "depth_node" / "launch" / file
    proc = NodeProcess([sys.executable, runner, path, *arguments], ros.tmp / f"launch_{file}.log", install.env)
    ros.processes.append(proc)
    return proc


def params_with(tmp: Path, name: str, source: Path, **values: object) -> Path:
    doc = yaml.safe_load(source.read_text())
    doc[f"/**/{name}"]["ros__parameters"].update(values)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_depth_launch_with_namespace_remaps_model_and_params(
    ros: Harness, install: Install, launch_available: None, tmp_path: Path
) -> None:
    params = params_with(tmp_path, "depth_node", CONFIG / "depth_node.yaml", decimation=3)
    model = install.prefix / "share" / "depth_node" / "models" / "fastdepth_synthetic.onnx"
    launch = start_launch(
        ros,
        install,
        "depth_node.launch.py",
        "namespace:=robot1",
        "image:=/cam1/image_raw",
        "camera_info:=/cam1/camera_info",
        f"params_file:={params}",
        f"model:={model}",
        "use_sim_time:=false",
    )
    values = get_parameters(ros, "/robot1/depth_node", ["decimation", "model_path", "use_sim_time"])
    assert values == [3, str(model), False], launch.output()
    frames = Frames()
    pub_image = ros.publisher(Image, "/cam1/image_raw")
    pub_info = ros.publisher(CameraInfo, "/cam1/camera_info")
    depth = ros.collect(Image, "/robot1/depth/image_raw")
    ros.wait_matched(pub_image)
    assert ros.spin_until(lambda: ros.node.count_publishers("/robot1/depth/image_raw") > 0)
    for _ in range(60):
        pub_info.publish(frames.info())
        pub_image.publish(frames.image())
        if ros.spin_until(lambda: bool(depth), 0.3):
            break
    assert depth, launch.output()
    ros.processes.remove(launch)
    assert launch.stop(group=True) == 0, launch.output()
    assert "Traceback" not in launch.output()


def test_navigation_launch_with_namespace_sim_time_and_cmd_vel_remap(
    ros: Harness, install: Install, launch_available: None, tmp_path: Path
) -> None:
    nav = params_with(tmp_path, "obstacle_avoidance", CONFIG / "obstacle_avoidance.yaml", control_rate_hz=10.0)
    launch = start_launch(
        ros,
        install,
        "navigation.launch.py",
        "namespace:=robot2",
        f"nav_params:={nav}",
        "cmd_vel:=/robot2_cmd",
        "use_sim_time:=true",
    )
    values = get_parameters(ros, "/robot2/obstacle_avoidance", ["control_rate_hz", "use_sim_time"])
    assert values == [10.0, True], launch.output()
    assert get_parameters(ros, "/robot2/depth_node", ["use_sim_time"]) == [True]
    cmd = ros.collect(Twist, "/robot2_cmd")
    assert ros.spin_until(lambda: ros.node.count_publishers("/robot2_cmd") > 0, 20.0), launch.output()
    del cmd  # with sim time and no /clock the control timer waits; the remap is what is checked here
    ros.processes.remove(launch)
    assert launch.stop(group=True) == 0, launch.output()
    assert "Traceback" not in launch.output()


def test_navigation_launch_gives_one_camera_mount_to_both_nodes(
    ros: Harness, install: Install, launch_available: None
) -> None:
    launch = start_launch(
        ros, install, "navigation.launch.py", "namespace:=robot3", "camera_height_m:=0.42", "camera_pitch_rad:=0"
    )
    names = ["camera_height_m", "camera_pitch_rad"]
    # "0" is given as a double (both nodes declare doubles): the launch file converts it.
    assert get_parameters(ros, "/robot3/obstacle_avoidance", names) == [0.42, 0.0], launch.output()
    assert get_parameters(ros, "/robot3/depth_node", names) == [0.42, 0.0], launch.output()
    ros.processes.remove(launch)
    assert launch.stop(group=True) == 0, launch.output()


def test_navigation_launch_managed_nodes_autostart_to_active(
    ros: Harness, install: Install, launch_available: None
) -> None:
    from tests.ros.services import NodeServices

    launch = start_launch(
        ros, install, "navigation.launch.py", "namespace:=robot4", "lifecycle:=true", "lifecycle_autostart:=true"
    )
    for name in ("depth_node", "obstacle_avoidance"):
        services = NodeServices(ros, f"/robot4/{name}")
        assert ros.spin_until(lambda s=services: s.state() == "active", 60.0), launch.output()
    ros.processes.remove(launch)
    assert launch.stop(group=True) == 0, launch.output()
    assert "Traceback" not in launch.output()
