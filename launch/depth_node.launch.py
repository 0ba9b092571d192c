"""Launch depth_node on a camera: ros2 launch depth_node depth_node.launch.py image:=/cam/image_raw ...

``lifecycle:=true`` starts it as a managed node (``lifecycle_autostart:=true`` configures and activates it
from here); ``rviz:=true`` / ``foxglove:=true`` open the package's views (depth_node.launch_support).
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration

from depth_node import launch_support
from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    """depth_node with its topics remapped onto the camera's."""
    share = Path(get_package_share_directory("depth_node"))
    args = [
        DeclareLaunchArgument("image", default_value="/camera/color/image_raw", description="colour image topic (raw)"),
        DeclareLaunchArgument("camera_info", default_value="/camera/color/camera_info", description="CameraInfo topic"),
        DeclareLaunchArgument("params_file", default_value=str(share / "config" / "depth_node.yaml")),
        DeclareLaunchArgument("model", default_value="", description="model path; empty = the params file's"),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the depth topics"),
        DeclareLaunchArgument("use_sim_time", default_value="false"),
        *launch_support.arguments(),
    ]
    remappings = [
        ("image_raw", LaunchConfiguration("image")),
        ("image_raw/compressed", [LaunchConfiguration("image"), "/compressed"]),
        ("camera_info", LaunchConfiguration("camera_info")),
    ]
    common = {
        "package": "depth_node",
        "executable": "depth_node",
        "name": "depth_node",
        "namespace": LaunchConfiguration("namespace"),
        "remappings": remappings,
        "output": "screen",
    }
    model_given = ["('", LaunchConfiguration("model"), "' != '')"]
    sim_time = {"use_sim_time": LaunchConfiguration("use_sim_time")}
    return LaunchDescription(
        [
            *args,
            # The model argument overrides the file only when given, so an empty argument never
            # clobbers model_path from a user's params file.
            *launch_support.plain_or_managed(
                model_given,
                **common,
                parameters=[
                    LaunchConfiguration("params_file"),
                    sim_time,
                    {"model_path": LaunchConfiguration("model")},
                ],
            ),
            *launch_support.plain_or_managed(
                ["not ", *model_given],
                **common,
                parameters=[LaunchConfiguration("params_file"), sim_time],
            ),
            *launch_support.viewers(share),
        ]
    )
