"""What ``ros2 launch depth_node FILE a:=b ...`` does, for the launch tests: python launch_runner.py FILE a:=b."""

from __future__ import annotations

import sys

from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

from launch import LaunchDescription, LaunchService


def main(argv: list[str]) -> int:
    path, *pairs = argv
    arguments = [tuple(pair.split(":=", 1)) for pair in pairs]
    service = LaunchService(argv=pairs)
    include = IncludeLaunchDescription(PythonLaunchDescriptionSource(path), launch_arguments=arguments)
    service.include_launch_description(LaunchDescription([include]))
    return service.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
