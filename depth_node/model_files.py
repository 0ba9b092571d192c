"""Where the shipped model lives, and what is assumed for a model file that carries no spec."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from depth_node import model_spec as ms
from depth_node.model_spec import ModelSpec

DEFAULT_MODEL_NAME = "fastdepth_synthetic.onnx"


def default_model_path() -> Path:
    """The shipped model: in the source tree (``models/``) or where colcon / pip installed it.

    colcon (ament_python) installs the package's data under ``<prefix>/share/depth_node/models`` and the
    code under ``<prefix>/lib/pythonX.Y/site-packages``; that prefix is neither ``sys.prefix`` nor next to
    the code, so it is found through the ament index when ROS is sourced, and from the code's own location.
    """
    here = Path(__file__).resolve().parent
    first = here.parent / "models" / DEFAULT_MODEL_NAME
    for path in (first, *_installed_model_paths(here)):
        if path.is_file():
            return path
    return first


def _installed_model_paths(here: Path) -> Iterator[Path]:
    """Where an install puts the shipped model, most specific first (looked up only when needed)."""
    share = _ament_share_directory()
    if share is not None:
        yield share / "models" / DEFAULT_MODEL_NAME
    if len(here.parents) > 3:  # <prefix>/lib/pythonX.Y/site-packages/depth_node -> <prefix>
        yield here.parents[3] / "share" / "depth_node" / "models" / DEFAULT_MODEL_NAME
    yield Path(sys.prefix) / "share" / "depth_node" / "models" / DEFAULT_MODEL_NAME


def _ament_share_directory() -> Path | None:
    """depth_node's share directory from the ament index, or None without ROS or outside an install."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory("depth_node"))
    except (PackageNotFoundError, LookupError, OSError, ValueError):  # OSError: AMENT_PREFIX_PATH unset
        return None


def assumed_spec_notice(path: Path, spec: ModelSpec) -> str:
    """One line: the conventions assumed for a model file that carries no spec, and where to set them."""
    size = (
        f"{spec.input_width}x{spec.input_height}" if spec.input_width else f"dynamic, multiple of {spec.size_multiple}"
    )
    return (
        f"model '{path.name}' has no '{ms.METADATA_KEY}' metadata and no model.* parameters were given; assuming "
        f"input {size}, {spec.color_order.upper()} scaled by {spec.scale:.5g}, mean {list(spec.mean)}, "
        f"std {list(spec.std)}, output {spec.output_kind.value} in [{spec.min_depth_m}, {spec.max_depth_m}] m; "
        "set them under 'model:' in the depth_node YAML (README: 'Model spec') or export with depth-node export-hf"
    )
