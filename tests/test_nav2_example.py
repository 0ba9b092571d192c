"""config/nav2/depth_node_nav2.yaml: an example for Nav2 (Jazzy) that no test here can run (no Nav2).

What can be checked is checked: the file parses, every key is one that Nav2 Jazzy declares (the lists below
were read off the ``jazzy`` branch of ros-navigation/navigation2: nav2_costmap_2d's costmap_2d_ros.cpp,
obstacle_layer.cpp, voxel_layer.cpp, inflation_layer.cpp; nav2_collision_monitor's collision_monitor_node.cpp,
polygon.cpp, circle.cpp, source.cpp, pointcloud.cpp; nav2_lifecycle_manager's lifecycle_manager.cpp), names
refer to what is defined, and the topics it feeds from are the ones our nodes publish (the DDS tests check
that the running nodes publish them: tests/ros/test_depth_node_managed_ros.py, test_navigation_managed_ros.py).
A typo in a key would be silently ignored by Nav2; here it fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "nav2" / "depth_node_nav2.yaml"

COSTMAP = {
    *("always_send_full_costmap", "footprint", "footprint_padding", "global_frame", "height", "lethal_cost_threshold"),
    *("map_topic", "observation_sources", "origin_x", "origin_y", "plugins", "publish_frequency", "resolution"),
    *("robot_base_frame", "robot_radius", "rolling_window", "track_unknown_space", "transform_tolerance"),
    *("trinary_costmap", "unknown_cost_value", "update_frequency", "use_maximum", "width", "filters"),
}
OBSTACLE_LAYER = {
    *("plugin", "enabled", "footprint_clearing_enabled", "min_obstacle_height", "max_obstacle_height"),
    *("combination_method", "observation_sources"),
}
LAYERS = {
    "nav2_costmap_2d::ObstacleLayer": OBSTACLE_LAYER,
    "nav2_costmap_2d::VoxelLayer": OBSTACLE_LAYER
    | {"publish_voxel_map", "origin_z", "z_resolution", "z_voxels", "unknown_threshold", "mark_threshold"},
    "nav2_costmap_2d::InflationLayer": {
        *("plugin", "enabled", "inflation_radius", "cost_scaling_factor", "inflate_unknown", "inflate_around_unknown"),
    },
}
LAYER_SOURCE = {
    *("topic", "sensor_frame", "observation_persistence", "expected_update_rate", "data_type", "inf_is_valid"),
    *("min_obstacle_height", "max_obstacle_height", "marking", "clearing", "obstacle_max_range"),
    *("obstacle_min_range", "raytrace_max_range", "raytrace_min_range"),
}
MONITOR = {
    *("base_frame_id", "odom_frame_id", "cmd_vel_in_topic", "cmd_vel_out_topic", "state_topic"),
    *("transform_tolerance", "source_timeout", "base_shift_correction", "stop_pub_timeout", "polygons"),
    *("observation_sources", "use_realtime_priority"),
}
POLYGON = {
    *("type", "points", "radius", "action_type", "min_points", "slowdown_ratio", "linear_limit", "angular_limit"),
    *("time_before_collision", "simulation_time_step", "visualize", "polygon_pub_topic", "footprint_topic"),
    *("polygon_sub_topic", "enabled"),
}
MONITOR_SOURCE = {"type", "topic", "enabled", "source_timeout", "min_height", "max_height", "min_range"}
MONITOR_SOURCE |= {"use_global_height"}
LIFECYCLE_MANAGER = {"node_names", "autostart", "bond_timeout", "bond_respawn_max_duration"}
LIFECYCLE_MANAGER |= {"attempt_respawn_reconnection"}


def load() -> dict[str, Any]:
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def example_topics() -> set[str]:
    """The topics the example subscribes Nav2 to (costmap and collision monitor sources)."""
    doc = load()
    topics: set[str] = set()
    costmap = doc["local_costmap"]["local_costmap"]["ros__parameters"]
    for name in costmap["plugins"]:
        layer = costmap[name]
        for source in str(layer.get("observation_sources", "")).split():
            topics.add(layer[source]["topic"])
    monitor = doc["collision_monitor"]["ros__parameters"]
    topics.update(monitor[source]["topic"] for source in monitor["observation_sources"])
    return topics


def unknown(section: dict[str, Any], allowed: set[str], nested: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Keys of ``section`` that Nav2 Jazzy does not declare there (``nested``: names of sub-sections)."""
    return {key for key in section if key not in allowed and key not in nested}


def test_costmap_layers_and_sources_use_only_jazzy_keys() -> None:
    costmap = load()["local_costmap"]["local_costmap"]["ros__parameters"]
    layers = set(costmap["plugins"])
    assert unknown(costmap, COSTMAP, layers) == set()
    for name in layers:
        layer = costmap[name]
        assert layer["plugin"] in LAYERS, name
        sources = set(str(layer.get("observation_sources", "")).split())
        assert unknown(layer, LAYERS[layer["plugin"]], sources) == set(), name
        for source in sources:
            assert unknown(layer[source], LAYER_SOURCE) == set(), f"{name}.{source}"
            assert layer[source]["data_type"] in ("PointCloud2", "LaserScan")
    scans = [costmap[n][s] for n in layers for s in str(costmap[n].get("observation_sources", "")).split()]
    # obstacle_avoidance's scan says "nothing up to range_max" with +inf: only inf_is_valid lets it clear.
    assert all(s.get("inf_is_valid") is True for s in scans if s["data_type"] == "LaserScan")


def test_collision_monitor_uses_only_jazzy_keys() -> None:
    monitor = load()["collision_monitor"]["ros__parameters"]
    polygons, sources = set(monitor["polygons"]), set(monitor["observation_sources"])
    assert unknown(monitor, MONITOR, polygons | sources) == set()
    for name in polygons:
        polygon = monitor[name]
        assert unknown(polygon, POLYGON) == set(), name
        assert polygon["type"] in ("polygon", "circle", "velocity_polygon")
        assert polygon["action_type"] in ("stop", "slowdown", "limit", "approach")
        if polygon["type"] == "polygon":
            assert isinstance(polygon["points"], str)  # Jazzy reads the points as one string "[[x, y], ...]"
            assert len(yaml.safe_load(polygon["points"])) >= 3
    for name in sources:
        assert unknown(monitor[name], MONITOR_SOURCE) == set(), name
        assert monitor[name]["type"] in ("scan", "pointcloud", "range", "polygon")


def test_lifecycle_manager_names_our_nodes_without_bond() -> None:
    manager = load()["lifecycle_manager_depth"]["ros__parameters"]
    assert unknown(manager, LIFECYCLE_MANAGER) == set()
    assert manager["node_names"] == ["depth_node", "obstacle_avoidance"]
    assert manager["bond_timeout"] == 0.0  # our rclpy lifecycle nodes have no bond


def test_the_example_feeds_on_the_cloud_and_the_scan() -> None:
    assert example_topics() == {"/depth/points", "/scan"}
