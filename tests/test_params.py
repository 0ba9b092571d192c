"""The parameter mechanism and config/depth_node.yaml against DepthNodeParams."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depth_node import params
from depth_node.depth_params import NODE_NAME, DepthNodeParams
from depth_node.errors import ParameterError

CONFIG = Path(__file__).resolve().parents[1] / "config" / "depth_node.yaml"


def test_yaml_lists_every_parameter_with_its_default() -> None:
    section = yaml.safe_load(CONFIG.read_text())[f"/**/{NODE_NAME}"]["ros__parameters"]
    in_yaml = params.flatten(section)
    infos = {info.name: info for info in params.describe(DepthNodeParams)}
    # Empty-list parameters cannot be written in a ROS YAML file; the file shows them commented out.
    expected = {name for name, info in infos.items() if info.default != ()}
    assert set(in_yaml) == expected
    for name in expected:
        value = in_yaml[name]
        assert params.coerce(infos[name], value) == infos[name].default, name
    for name in set(infos) - expected:
        assert f"# {name.split('.')[-1]}:" in CONFIG.read_text()
    assert params.load(DepthNodeParams, CONFIG, NODE_NAME) == DepthNodeParams()


def test_every_parameter_is_described() -> None:
    for info in params.describe(DepthNodeParams):
        assert info.description, info.name


def test_nested_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    decimation: 2\n"
        "/robot/depth_node:\n  ros__parameters:\n    decimation: 4\n    model:\n      output_kind: relative_depth\n"
    )
    p = params.load(DepthNodeParams, path, NODE_NAME, {"providers": ["cpu"]})
    assert p.decimation == 4 and p.model.output_kind == "relative_depth" and p.providers == ("cpu",)
    assert p.model.as_spec_overrides() == {"output_kind": "relative_depth"}


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"decimation": 0}, "parameter 'decimation': 0 is below the minimum 1"),
        ({"decimation": 2.5}, "parameter 'decimation': expected int"),
        ({"image_transport": "theora"}, "parameter 'image_transport': 'theora' is not one of"),
        ({"publish_cloud": "yes"}, "parameter 'publish_cloud': expected bool"),
        ({"model": {"output_kind": "disparity"}}, "parameter 'model.output_kind'"),
        ({"providers": "cuda"}, "parameter 'providers': expected a list"),
        ({"cloud_max_range_m": float("nan")}, "parameter 'cloud_max_range_m': nan is not a finite number"),
        ({"decimaton": 2}, r"unknown parameter 'decimaton' \(did you mean 'decimation'\?\)$"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(values: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        params.from_mapping(DepthNodeParams, values)


def test_mean_needs_three_values() -> None:
    p = params.from_mapping(DepthNodeParams, {"model": {"mean": [0.5, 0.5]}})
    with pytest.raises(ParameterError, match="'model.mean': expected 3 values"):
        p.model.as_spec_overrides()


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cannot be read"):
        params.load(DepthNodeParams, tmp_path / "missing.yaml", NODE_NAME)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("other_node:\n  ros__parameters:\n    decimation: 2\n")
    with pytest.raises(ParameterError, match="no 'depth_node: ros__parameters:' section"):
        params.load(DepthNodeParams, wrong, NODE_NAME)
    broken = tmp_path / "broken.yaml"
    broken.write_text("depth_node: [\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        params.load(DepthNodeParams, broken, NODE_NAME)
