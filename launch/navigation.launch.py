"""depth_node + obstacle_avoidance: ros2 launch depth_node navigation.launch.py image:=/cam/image_raw ...

depth_node publishes depth/image_raw and depth/camera_info in ``namespace``; obstacle_avoidance reads
them there (the same relative names, so no remapping between the two is needed) plus the detections,
odometry and goal topics, and publishes cmd_vel onto the robot's velocity topic.

The camera mount (``camera_height_m``, ``camera_pitch_rad``) is one fact of the robot used by both nodes
(depth_node's floor scale, obstacle_avoidance's floor removal and scan): it is given here once and
overrides both parameter files.

``frame_prefix:=robot1/`` prefixes obstacle_avoidance's frames (``odom_frame``, ``base_frame``, ``scan_frame``),
so a second robot in the same graph keeps its own TF tree (give its camera driver and robot_state_publisher
the same prefix); it overrides a ``frame_prefix`` in the params file. ``cmd_vel_stamped:=true`` publishes
TwistStamped, what Jazzy's diff_drive_controller takes.

With ``detector_model:=/path/model.onnx`` the detector node also runs on the same camera and publishes
onto the detections topic that obstacle_avoidance reads, so one camera drives the whole graph.

``lifecycle:=true`` starts the nodes (depth_node, obstacle_avoidance, the detector) as managed nodes
(nav2_lifecycle_manager with their ``node_names`` and ``bond_timeout: 0.0``, or ``lifecycle_autostart:=true``);
``rviz:=true`` / ``foxglove:=true`` open the package's views (depth_node.launch_support).
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.parameter_descriptions import ParameterValue

from depth_node import launch_support
from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    """Both nodes, with their parameter files and the remappings onto the camera and the robot."""
    share = Path(get_package_share_directory("depth_node"))
    args = [
        DeclareLaunchArgument("image", default_value="/camera/color/image_raw", description="colour image topic (raw)"),
        DeclareLaunchArgument("camera_info", default_value="/camera/color/camera_info", description="CameraInfo topic"),
        DeclareLaunchArgument("detections", default_value="/detections", description="Detection2DArray topic"),
        DeclareLaunchArgument("cmd_vel", default_value="/cmd_vel", description="velocity command topic"),
        DeclareLaunchArgument("odom", default_value="/odom", description="nav_msgs/Odometry topic"),
        DeclareLaunchArgument("goal_pose", default_value="/goal_pose", description="PoseStamped goal topic"),
        DeclareLaunchArgument("camera_height_m", default_value="0.30", description="camera height above the floor"),
        DeclareLaunchArgument("camera_pitch_rad", default_value="0.10", description="camera pitch, positive down"),
        DeclareLaunchArgument("depth_params", default_value=str(share / "config" / "depth_node.yaml")),
        DeclareLaunchArgument("nav_params", default_value=str(share / "config" / "obstacle_avoidance.yaml")),
        DeclareLaunchArgument(
            "detector_model", default_value="", description="ONNX detector; when set, the detector node runs too"
        ),
        DeclareLaunchArgument("detector_params", default_value=str(share / "config" / "detector.yaml")),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the depth topics"),
        DeclareLaunchArgument(
            "frame_prefix", default_value="", description="prefix of obstacle_avoidance's TF frames, e.g. robot1/"
        ),
        DeclareLaunchArgument(
            "cmd_vel_stamped", default_value="false", description="TwistStamped on cmd_vel (Jazzy ros2_control)"
        ),
        DeclareLaunchArgument("use_sim_time", default_value="false"),
        *launch_support.arguments(),
    ]
    sim_time = {"use_sim_time": LaunchConfiguration("use_sim_time")}
    # float() so that "1" is a double, as both nodes declare it (an integer override would be refused).
    mount = {
        name: PythonExpression(["str(float('", LaunchConfiguration(name), "'))"])
        for name in ("camera_height_m", "camera_pitch_rad")
    }
    depth = launch_support.plain_or_managed(
        package="depth_node",
        executable="depth_node",
        name="depth_node",
        namespace=LaunchConfiguration("namespace"),
        parameters=[LaunchConfiguration("depth_params"), sim_time, mount],
        remappings=[
            ("image_raw", LaunchConfiguration("image")),
            ("image_raw/compressed", [LaunchConfiguration("image"), "/compressed"]),
            ("camera_info", LaunchConfiguration("camera_info")),
        ],
        output="screen",
    )
    # ParameterValue(str): an empty prefix stays an empty string (launch would read "" as YAML, i.e. null).
    robot = {
        "frame_prefix": ParameterValue(LaunchConfiguration("frame_prefix"), value_type=str),
        "cmd_vel_stamped": ParameterValue(LaunchConfiguration("cmd_vel_stamped"), value_type=bool),
    }
    navigation = launch_support.plain_or_managed(
        package="depth_node",
        executable="obstacle_avoidance",
        name="obstacle_avoidance",
        namespace=LaunchConfiguration("namespace"),
        parameters=[LaunchConfiguration("nav_params"), sim_time, mount, robot],
        remappings=[
            ("detections", LaunchConfiguration("detections")),
            ("cmd_vel", LaunchConfiguration("cmd_vel")),
            ("odom", LaunchConfiguration("odom")),
            ("goal_pose", LaunchConfiguration("goal_pose")),
        ],
        output="screen",
    )
    detector_model = LaunchConfiguration("detector_model")
    detector = launch_support.plain_or_managed(
        ["('", detector_model, "' != '')"],
        package="depth_node",
        executable="detector",
        name="detector",
        namespace=LaunchConfiguration("namespace"),
        parameters=[LaunchConfiguration("detector_params"), {"model_path": detector_model}, sim_time],
        remappings=[
            ("image_raw", LaunchConfiguration("image")),
            ("image_raw/compressed", [LaunchConfiguration("image"), "/compressed"]),
            ("detections", LaunchConfiguration("detections")),
        ],
        output="screen",
    )
    return LaunchDescription([*args, *depth, *navigation, *detector, *launch_support.viewers(share)])
