"""Every bag the package writes records the QoS each topic is offered with (rosbag2's ``offered_qos_profiles``).

``ros2 bag play`` republishes a topic with the QoS its bag recorded: /tf_static must come back latched
(transient_local), or a viewer that subscribes after its one message never sees the camera. The bags are
read back as rosbag2 reads them: metadata.yaml and the MCAP channel metadata.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from mcap.reader import make_reader
from rosbags.interfaces import QosDurability, QosReliability

from depth_node.cli import main
from depth_node.estimator import load_estimator
from depth_node.evaluation.bagio import open_bag, rosbags_qos
from depth_node.evaluation.scenarios import build_scenario
from depth_node.msgs import MessageSet
from depth_node.offered_qos import DEFAULT, LATCHED, SENSOR_OUTPUT, OfferedQos, offered_qos
from depth_node.simulation.in_process import run_scenario
from depth_node.simulation.options import SimOptions
from tests.bags import Frame, write_camera_bag


def _recorded(bag: Path) -> dict[str, list[Any]]:
    """topic -> the offered profiles as rosbags reads them back (from the MCAP channel metadata)."""
    with open_bag(bag) as reader:
        return {c.topic: list(c.ext.offered_qos_profiles) for c in reader.connections}


def _metadata_yaml(bag: Path) -> dict[str, list[dict[str, Any]]]:
    """topic -> offered_qos_profiles of metadata.yaml (what ``ros2 bag play`` and ``ros2 bag info`` read)."""
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    out = {}
    for entry in meta["topics_with_message_count"]:
        md = entry["topic_metadata"]
        profiles = md["offered_qos_profiles"]
        out[md["name"]] = yaml.safe_load(profiles) if isinstance(profiles, str) else profiles
    return out


def _mcap_channels(bag: Path) -> dict[str, list[dict[str, Any]]]:
    """topic -> the YAML in the MCAP channel's ``offered_qos_profiles`` (rosbag2_storage_mcap reads it there)."""
    (path,) = bag.glob("*.mcap")
    with path.open("rb") as f:
        summary = make_reader(f).get_summary()
    assert summary is not None
    return {c.topic: yaml.safe_load(c.metadata["offered_qos_profiles"]) for c in summary.channels.values()}


def _check(bag: Path, expected: dict[str, OfferedQos]) -> None:
    recorded = _recorded(bag)
    from_yaml = _metadata_yaml(bag)
    from_mcap = _mcap_channels(bag)
    assert set(recorded) == set(from_yaml) == set(from_mcap)
    for topic, profiles in recorded.items():
        want = expected.get(topic, offered_qos(topic))
        assert profiles == [rosbags_qos(want)], topic
        for source in (from_yaml[topic], from_mcap[topic]):
            (entry,) = source
            assert (entry["reliability"], entry["durability"], entry["depth"], entry["history"]) == (
                want.reliability,
                want.durability,
                want.depth,
                "keep_last",
            ), (topic, entry)


def test_the_table_names_the_nodes_profiles() -> None:
    assert offered_qos("/tf_static") == LATCHED and LATCHED.durability == "transient_local"
    assert offered_qos("/robot1/depth/points") == SENSOR_OUTPUT == offered_qos("depth/image_raw")
    assert offered_qos("/scan") == offered_qos("/clock") == DEFAULT
    assert offered_qos("/my_depth/points_filtered") == DEFAULT  # a suffix on a name boundary only
    qos = rosbags_qos(LATCHED)
    assert (qos.durability, qos.reliability, qos.depth) == (QosDurability.TRANSIENT_LOCAL, QosReliability.RELIABLE, 10)


def test_replay_output_records_offered_qos_and_keeps_the_inputs(
    tmp_path: Path, messages: MessageSet, metric_model: Path
) -> None:
    """The outputs as the nodes offer them; a copied input topic keeps what the input bag recorded."""
    best_effort = dataclasses.replace(DEFAULT, reliability="best_effort", depth=1)
    bag = write_camera_bag(tmp_path / "in", [Frame()] * 3, messages, image_qos=[rosbags_qos(best_effort)])
    out = tmp_path / "out"
    assert main(["replay", str(bag), "--out", str(out), "--model", str(metric_model), "--no-progress"]) == 0
    recorded = _recorded(out)
    assert {"/tf_static", "/depth/image_raw", "/depth/points", "/cmd_vel", "/cam/image_raw"} <= set(recorded)
    _check(out, {"/cam/image_raw": best_effort})


def test_sim_bag_records_offered_qos(tmp_path: Path, metric_model: Path) -> None:
    """The in-process simulator's bag: /tf_static latched, the depth outputs as depth_node offers them."""
    bag = tmp_path / "run"
    scenario = dataclasses.replace(build_scenario("person_standing", 0), timeout_s=0.3)
    run_scenario(scenario, SimOptions(width=64, height=48), load_estimator(metric_model, providers=("cpu",)), bag=bag)
    recorded = _recorded(bag)
    assert recorded["/tf_static"] == [rosbags_qos(LATCHED)]
    assert recorded["/depth/points"] == [rosbags_qos(SENSOR_OUTPUT)]
    _check(bag, {})


def test_demo_drive_bag_records_offered_qos(tmp_path: Path) -> None:
    from depth_node.evaluation.demo import record_drive
    from depth_node.evaluation.world import camera_for

    _check(record_drive(tmp_path / "drive", "corridor", 0, 2, camera_for(64, 48)), {})
