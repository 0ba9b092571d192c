"""Build ROS 2 interface packages that no registry ships (vision_msgs, composition_interfaces) into a venv.

The ``ros-jazzy-*`` wheels carry the rosidl generators and ament_cmake, so an ordinary interface package
builds with cmake into the venv's own prefix: the generated Python modules land in its site-packages, the
C libraries in its ``lib/`` next to the wheels' own, and the ament index under ``share/``. After that,
``import vision_msgs.msg`` works in that venv with no environment variable set.

vision_msgs is generated from :mod:`depth_node.msgs.vision_defs` (the field lists this package already reads and
writes bags with), so the live messages and the replay messages cannot drift apart.

Usage::

    python tools/ros_interfaces.py vision_msgs tf2_msgs
    python tools/ros_interfaces.py ../shared/ros2/composition_interfaces
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

# The wheels' exported CMake targets name the include directories of the container they were built in
# (/opt/python/cp311-cp311/...), which do not exist here; CMake refuses an imported target whose include
# directory is missing. This hook, run at the end of the package's configure step, points every such
# target at this interpreter's headers instead. It changes nothing in the installed wheels.
_FIX_INCLUDES = """
function(_venv_fix_python_includes)
  get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(dirs AND dirs MATCHES "/opt/python/")
      set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${VENV_PYTHON_INCLUDES}")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _venv_fix_python_includes)
"""

_VISION_PACKAGE_XML = """<?xml version="1.0"?>
<package format="3">
  <name>vision_msgs</name>
  <version>4.1.1</version>
  <description>vision_msgs 4.x messages used by depth_node, generated from depth_node/msgs/vision_defs.py</description>
  <maintainer email="depth-node@example.org">depth_node</maintainer>
  <license>Apache-2.0</license>
  <buildtool_depend>ament_cmake</buildtool_depend>
  <buildtool_depend>rosidl_default_generators</buildtool_depend>
  <depend>std_msgs</depend>
  <depend>geometry_msgs</depend>
  <exec_depend>rosidl_default_runtime</exec_depend>
  <member_of_group>rosidl_interface_packages</member_of_group>
  <export><build_type>ament_cmake</build_type></export>
</package>
"""

_VISION_CMAKE = """cmake_minimum_required(VERSION 3.8)
project(vision_msgs)
find_package(ament_cmake REQUIRED)
find_package(rosidl_default_generators REQUIRED)
find_package(std_msgs REQUIRED)
find_package(geometry_msgs REQUIRED)
rosidl_generate_interfaces(${{PROJECT_NAME}}
{files}
  DEPENDENCIES std_msgs geometry_msgs
)
ament_export_dependencies(rosidl_default_runtime)
ament_package()
"""


def write_vision_msgs(dest: Path) -> Path:
    """Write the vision_msgs source package (package.xml, CMakeLists.txt, msg/) into ``dest``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from depth_node.msgs.vision_defs import DEFINITIONS

    (dest / "msg").mkdir(parents=True)
    for name, text in DEFINITIONS.items():
        (dest / "msg" / f"{name}.msg").write_text(text)
    files = "\n".join(f'  "msg/{name}.msg"' for name in DEFINITIONS)
    (dest / "CMakeLists.txt").write_text(_VISION_CMAKE.format(files=files))
    (dest / "package.xml").write_text(_VISION_PACKAGE_XML)
    return dest


# tf2_msgs/TFMessage, the one message of tf2_msgs that /tf and /tf_static carry (the package's services and
# actions are not needed here). Same field list as upstream, so the type hash is the same and RViz, Foxglove
# and tf2 on a full ROS install read what the simulator and obstacle_avoidance publish.
_TF2_MESSAGES = {"TFMessage": "geometry_msgs/TransformStamped[] transforms\n"}

_TF2_PACKAGE_XML = """<?xml version="1.0"?>
<package format="3">
  <name>tf2_msgs</name>
  <version>0.36.0</version>
  <description>tf2_msgs/TFMessage for depth_node's pip-installed ROS 2 runtime (no registry ships it)</description>
  <maintainer email="depth-node@example.org">depth_node</maintainer>
  <license>BSD-3-Clause</license>
  <buildtool_depend>ament_cmake</buildtool_depend>
  <buildtool_depend>rosidl_default_generators</buildtool_depend>
  <depend>geometry_msgs</depend>
  <exec_depend>rosidl_default_runtime</exec_depend>
  <member_of_group>rosidl_interface_packages</member_of_group>
  <export><build_type>ament_cmake</build_type></export>
</package>
"""

_TF2_CMAKE = """cmake_minimum_required(VERSION 3.8)
project(tf2_msgs)
find_package(ament_cmake REQUIRED)
find_package(rosidl_default_generators REQUIRED)
find_package(geometry_msgs REQUIRED)
rosidl_generate_interfaces(${PROJECT_NAME}
  "msg/TFMessage.msg"
  DEPENDENCIES geometry_msgs
)
ament_export_dependencies(rosidl_default_runtime)
ament_package()
"""


def write_tf2_msgs(dest: Path) -> Path:
    """Write the tf2_msgs source package (TFMessage only) into ``dest``."""
    (dest / "msg").mkdir(parents=True)
    for name, text in _TF2_MESSAGES.items():
        (dest / "msg" / f"{name}.msg").write_text(text)
    (dest / "CMakeLists.txt").write_text(_TF2_CMAKE)
    (dest / "package.xml").write_text(_TF2_PACKAGE_XML)
    return dest


def _python_includes() -> str:
    import numpy as np

    return f"{sysconfig.get_paths()['include']};{np.get_include()}"


def build(source: Path, prefix: Path, work: Path) -> None:
    """Configure, build and install one ament_cmake interface package from ``source`` into ``prefix``."""
    hook = work / "fix_python_includes.cmake"
    hook.write_text(_FIX_INCLUDES)
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    env["AMENT_PREFIX_PATH"] = str(prefix)
    env["CMAKE_PREFIX_PATH"] = str(prefix)
    build_dir = work / "build"
    subprocess.run(
        [
            "cmake",
            "-S",
            str(source),
            "-B",
            str(build_dir),
            f"-DCMAKE_INSTALL_PREFIX={prefix}",
            f"-DCMAKE_PREFIX_PATH={prefix}",
            f"-DCMAKE_PROJECT_INCLUDE={hook}",
            f"-DVENV_PYTHON_INCLUDES={_python_includes()}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DBUILD_TESTING=OFF",
            "-DCMAKE_BUILD_TYPE=Release",
        ],
        check=True,
        env=env,
    )
    jobs = str(os.cpu_count() or 1)
    subprocess.run(["cmake", "--build", str(build_dir), "--parallel", jobs], check=True, env=env)
    subprocess.run(["cmake", "--install", str(build_dir)], check=True, env=env)


def main(argv: list[str] | None = None) -> int:
    """Build each named package (``vision_msgs`` or a source directory) into the running venv."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "packages", nargs="+", help="'vision_msgs', 'tf2_msgs', or an interface package's source directory"
    )
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix), help="install prefix (default: this venv)")
    args = parser.parse_args(argv)
    if shutil.which("cmake") is None:
        print("ros_interfaces: cmake is not installed (apt install cmake g++)", file=sys.stderr)
        return 2
    for package in args.packages:
        with tempfile.TemporaryDirectory(prefix="ros_interfaces_") as tmp:
            work = Path(tmp)
            if package == "vision_msgs":
                source = write_vision_msgs(work / "src" / "vision_msgs")
            elif package == "tf2_msgs":
                source = write_tf2_msgs(work / "src" / "tf2_msgs")
            else:
                source = Path(package).resolve()
                if not (source / "package.xml").is_file():
                    print(f"ros_interfaces: {package} is not an interface package (no package.xml)", file=sys.stderr)
                    return 2
            build(source, args.prefix.resolve(), work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
