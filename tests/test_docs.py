"""The README and the shipped parameter files, as a user copies them: keys that match in any namespace, one
row per topic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from depth_node import params as params_mod
from depth_node.depth_params import DepthNodeParams
from depth_node.detection.params import DetectorParams
from navigation.params import ObstacleAvoidanceParams

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLASSES = {"depth_node": DepthNodeParams, "obstacle_avoidance": ObstacleAvoidanceParams, "detector": DetectorParams}


def _documents() -> list[tuple[str, dict[str, object]]]:
    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    docs = [(f"README block {i}", yaml.safe_load(text)) for i, text in enumerate(blocks)]
    docs += [(path.name, yaml.safe_load(path.read_text())) for path in sorted((ROOT / "config").glob("*.yaml"))]
    return [
        (name, doc)
        for name, doc in docs
        if isinstance(doc, dict) and any("ros__parameters" in str(v) for v in doc.values())
    ]


@pytest.mark.parametrize(("name", "doc"), _documents(), ids=[n for n, _ in _documents()])
def test_parameter_files_use_keys_that_match_in_any_namespace(
    name: str, doc: dict[str, object], tmp_path: Path
) -> None:
    """A bare 'depth_node:' key is ignored by ROS under a namespace; '/**/depth_node:' is not."""
    for key, section in doc.items():
        assert key.startswith("/**"), f"{name}: key '{key}' only matches a node outside any namespace"
        node = key.rsplit("/", 1)[-1]
        if node in CLASSES:  # and the block is valid: every key a parameter of that node
            path = tmp_path / "p.yaml"
            path.write_text(yaml.safe_dump({key: section}))
            try:
                params_mod.load(CLASSES[node], path, node)
            except params_mod.ParameterError as exc:
                assert "model_path" in str(exc) or "does not exist" in str(exc), f"{name}: {exc}"


def test_topic_tables_have_one_row_per_topic() -> None:
    for table in re.findall(r"((?:^\|.*\|\n)+)", README, flags=re.M):
        header = table.splitlines()[0].lower()
        if "topic" not in header or "dir" not in header:  # "direction" contains "dir"
            continue  # measurement tables repeat their keys by design (one row per run)
        rows = [line for line in table.splitlines()[2:] if line.count("|") >= 4]
        keys = [tuple(cell.strip() for cell in row.split("|")[1:3]) for row in rows]
        assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
