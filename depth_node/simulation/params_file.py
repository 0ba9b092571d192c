"""The parameter file the simulator starts both nodes with: exactly the parameters of the in-process run.

The in-process simulator builds :class:`DepthNodeParams` and :class:`ObstacleAvoidanceParams` (the user's
``--params`` YAML, then the simulated robot's facts: camera mount, footprint, goal tolerance). Written out in
full as one ROS 2 parameter file, both processes run with the same values, so a difference between the two
transports is never a difference of configuration. The camera mount is written once, under ``/**``, and
applies to both nodes, as the launch file's ``camera_height_m`` / ``camera_pitch_rad`` arguments do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from depth_node.params import apply_renamed, describe, to_flat_dict

MOUNT_KEYS = ("camera_height_m", "camera_pitch_rad")
RECORDED_PARAMS = "params.yaml"  # in a bag directory that depth-node sim recorded: the parameters its nodes ran with


def recorded_params(bag: Path) -> Path | None:
    """The parameter file a simulator bag carries (``BAG/params.yaml``), or None (another bag)."""
    path = bag / RECORDED_PARAMS
    return path if bag.is_dir() and path.is_file() else None


def _ros_values(params: Any) -> dict[str, Any]:
    """Flat name -> value with the types ROS declares (floats stay floats; empty lists are left out, since
    rcl's YAML parser refuses an empty sequence and the node's default is the empty list anyway)."""
    kinds = {info.name: info for info in describe(type(params))}
    out: dict[str, Any] = {}
    for name, value in to_flat_dict(params).items():
        info = kinds[name]
        if info.kind is tuple:
            if value:
                kind = info.item_kind if info.item_kind in (int, float, str, bool) else None
                out[name] = [kind(v) if kind is not None else v for v in value]
        else:
            out[name] = float(value) if info.kind is float else value
    return out


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def params_document(depth: Any, nav: Any, extra_nav: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The YAML document: ``/**`` with the camera mount, ``depth_node`` and ``obstacle_avoidance`` with the rest.

    Raises:
        ValueError: the two parameter sets disagree on the camera mount (one robot has one mount).
    """
    depth_values, nav_values = _ros_values(depth), _ros_values(nav)
    for key in MOUNT_KEYS:
        if depth_values[key] != nav_values[key]:
            raise ValueError(f"camera mount '{key}' differs: depth_node {depth_values[key]}, nav {nav_values[key]}")
    mount = {key: nav_values.pop(key) for key in MOUNT_KEYS}
    for key in MOUNT_KEYS:
        depth_values.pop(key)
    nav_values.update(apply_renamed(type(nav), extra_nav or {}))  # an old name overrides its new one
    return {
        "/**": {"ros__parameters": mount},
        "depth_node": {"ros__parameters": _nest(depth_values)},
        "obstacle_avoidance": {"ros__parameters": _nest(nav_values)},
    }


def params_text(depth: Any, nav: Any, extra_nav: Mapping[str, Any] | None = None) -> str:
    """:func:`params_document` as YAML text (the file the nodes start with, and a sim bag's params.yaml)."""
    text = "# Written by depth-node sim: the parameters both nodes run with.\n"
    return text + yaml.safe_dump(params_document(depth, nav, extra_nav), sort_keys=False)


def write_params_file(path: Path, depth: Any, nav: Any, extra_nav: Mapping[str, Any] | None = None) -> Path:
    """Write :func:`params_document` to ``path`` atomically (temporary name, then rename)."""
    text = params_text(depth, nav, extra_nav)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
