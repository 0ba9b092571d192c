"""Live tuning without ROS: which parameters are dynamic, and the depth processor taking new ones."""

from __future__ import annotations

import dataclasses

import numpy as np

from depth_node import params as params_mod
from depth_node.depth_params import DepthNodeParams
from depth_node.msgs import MessageSet
from depth_node.msgs.vision_defs import typestore_with_vision
from depth_node.processing import DepthFrameProcessor
from depth_node.simulation.in_process import OracleDepth
from tests.test_scale import CAMERA, HEIGHT, PITCH, floor_and_wall


def test_depth_node_tunes_cloud_colour_and_floor_and_keeps_the_wiring() -> None:
    infos = {i.name: i for i in params_mod.describe(DepthNodeParams)}
    dynamic = {name for name, info in infos.items() if info.dynamic}
    assert {"decimation", "cloud_max_range_m", "colored_max_m", "floor_scale", "floor_smoothing"} <= dynamic
    structural = {"model_path", "providers", "threads", "image_transport", "qos_reliability", "publish_cloud"}
    assert not dynamic & (structural | {name for name in infos if name.startswith("model.")})


def test_the_next_frame_uses_the_new_parameters() -> None:
    messages = MessageSet.from_rosbags(typestore_with_vision())
    oracle = OracleDepth()
    oracle.truth = floor_and_wall()
    header = messages.header(1_000_000_000, "camera")
    image = messages.image(np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8), "rgb8", header)
    info = messages.camera_info(CAMERA, header)
    p = DepthNodeParams(floor_scale=True, camera_height_m=HEIGHT, camera_pitch_rad=PITCH)
    processor = DepthFrameProcessor(messages, oracle, p)
    scaler = processor.floor_scaler
    assert processor.process(image, info).cloud_msg.width == CAMERA.width
    processor.retune(dataclasses.replace(p, decimation=4, colored_max_m=3.0))
    assert processor.floor_scaler is scaler  # an unrelated change keeps the floor fit (an affine one: its smoothing)
    out = processor.process(image, info, want_cloud=True)
    assert out.cloud_msg.width == CAMERA.width // 4 and processor.params.colored_max_m == 3.0
    processor.retune(dataclasses.replace(processor.params, floor_scale=False))
    assert processor.floor_scaler is None and processor.process(image, info).floor is None
