"""Which bags ``depth-node evaluate`` scores, and where each keeps its images and ground truth.

A manifest is YAML: a list of bags (or a mapping with a ``bags:`` list), each with

* ``path``: the bag (directory, .mcap or .db3), relative to the manifest's directory unless absolute;
* ``image_topic``: the colour images (optional when the bag has exactly one);
* ground truth as ``gt_depth_topic`` (an aligned depth Image) or ``gt_points_topic`` (a PointCloud2 in the
  camera's optical frame): exactly one;
* optionally ``camera_info_topic``, ``camera_height_m`` (the depth node's floor scale and the controller's
  mount for this robot) and ``name`` (the bag's name in the leaderboard; default: the file name without
  its suffix).

Bags given on the command line share the topics given by flags. A bag that is missing or damaged is not
refused here: it becomes a failed row with its reason, like any bag that cannot be replayed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from depth_node.errors import ParameterError

KEYS = ("path", "name", "image_topic", "camera_info_topic", "gt_depth_topic", "gt_points_topic", "camera_height_m")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BagEntry:
    """One bag to evaluate and how to read it."""

    name: str
    path: Path
    gt_depth_topic: str | None = None
    gt_points_topic: str | None = None
    image_topic: str | None = None
    camera_info_topic: str | None = None
    camera_height_m: float | None = None


def safe_name(text: str) -> str:
    """``text`` as one file-name component (runs/BAG__MODEL): anything but letters, digits, ``._-`` -> ``_``."""
    return _UNSAFE.sub("_", text).strip("._") or "unnamed"


def default_name(path: Path) -> str:
    """A bag's name from its path: a directory's name, or a file's without .mcap/.db3."""
    return path.name[: -len(path.suffix)] if path.suffix in (".mcap", ".db3") else path.name


def make_entry(fields: dict[str, Any], where: str, base: Path | None = None) -> BagEntry:
    """A :class:`BagEntry` from one manifest item or the command line's flags.

    Args:
        fields: The item's keys (:data:`KEYS`).
        where: How to name the item in an error (``manifest.yaml, bag 3``).
        base: Directory a relative path is relative to (the manifest's); None: as given.

    Raises:
        ParameterError: an unknown key, no path, not exactly one ground-truth topic, a bad camera height.
    """
    unknown = sorted(set(fields) - set(KEYS))
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(KEYS)}")
    if not fields.get("path"):
        raise ParameterError(f"{where}: no 'path'")
    path = Path(str(fields["path"])).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    path = path.absolute()  # a worker (another process, a Ray node) may start elsewhere
    gts = [k for k in ("gt_depth_topic", "gt_points_topic") if fields.get(k)]
    if len(gts) != 1:
        raise ParameterError(f"{where}: give exactly one of gt_depth_topic and gt_points_topic, got {len(gts)}")
    height = fields.get("camera_height_m")
    if height is not None:
        try:
            height = float(height)
        except (TypeError, ValueError):
            height = float("nan")
        if not height > 0.0:
            raise ParameterError(f"{where}: camera_height_m must be a number > 0, got {fields['camera_height_m']!r}")

    def text(key: str) -> str | None:
        value = fields.get(key)
        return None if value in (None, "") else str(value)

    return BagEntry(
        name=safe_name(text("name") or default_name(path)),
        path=path,
        gt_depth_topic=text("gt_depth_topic"),
        gt_points_topic=text("gt_points_topic"),
        image_topic=text("image_topic"),
        camera_info_topic=text("camera_info_topic"),
        camera_height_m=height,
    )


def load_manifest(path: Path) -> list[BagEntry]:
    """The bags of a manifest file (module docstring).

    Raises:
        ParameterError: the file cannot be read or parsed, or an item is invalid (naming the file and item).
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"--manifest '{path}': cannot read it: {str(exc).splitlines()[0]}") from exc
    items = data.get("bags") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ParameterError(f"--manifest '{path}': expected a non-empty list of bags (or a 'bags:' list)")
    entries = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise ParameterError(f"--manifest '{path}', bag {i}: expected a mapping with 'path', got {item!r}")
        entries.append(make_entry(item, f"--manifest '{path}', bag {i}", Path(path).parent))
    return entries


def check_unique(entries: list[BagEntry]) -> list[BagEntry]:
    """``entries`` if their names differ (each names a row and a run directory).

    Raises:
        ParameterError: naming the repeated name.
    """
    seen: dict[str, Path] = {}
    for e in entries:
        if e.name in seen:
            raise ParameterError(
                f"two bags named '{e.name}' ({seen[e.name]} and {e.path}): give them distinct 'name's in a manifest"
            )
        seen[e.name] = e.path
    return entries
