"""``depth-node bench``: per-stage medians of the depth node's work at 640x480.

Everything is measured in the same run against its baseline: the organised cloud against a plain numpy
back-projection of the same frame, and the node's work around the model (decode, pre/post-processing,
messages, cloud) against the forward pass and against a 33 ms frame budget.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np

from depth_node.commands.common import add_model_arguments, build_estimator, load_params
from depth_node.errors import ParameterError
from depth_node.timing import median_ms

FRAME_BUDGET_MS = 1000.0 / 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the bench command."""
    add_model_arguments(parser)
    parser.add_argument(
        "--repeats", type=int, default=50, help="timed repetitions per stage, >= 1 (median reported; default 50)"
    )
    parser.add_argument("--width", type=int, default=640, help="synthetic frame width, px (default 640)")
    parser.add_argument("--height", type=int, default=480, help="synthetic frame height, px (default 480)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="instead of the medians: run the processor and the controller on a stream of frames for this "
        "long, printing RSS and latency percentiles at the start, middle and end (JSON lines)",
    )
    parser.add_argument(
        "--soak-rate", type=float, default=30.0, metavar="HZ", help="frame rate of the soak; 0 = as fast as possible"
    )
    parser.add_argument(
        "--detector-model",
        type=Path,
        help="ONNX detector (YOLOv8/YOLO11, YOLOX, FastestDet export) to time on the CPU (default: none)",
    )


def _synthetic_frame(width: int, height: int) -> np.ndarray:
    """A textured colour frame (gradients + noise) so that JPEG has real work to do."""
    rng = np.random.default_rng(0)
    u = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    v = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    img = np.stack([u + 0 * v, v + 0 * u, (u + v) / 2], axis=-1) + rng.normal(0, 12, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """All stage medians (ms) plus derived ratios."""
    from depth_node import image_codec
    from depth_node.camera import CameraModel
    from depth_node.msgs import MessageSet, decode_image
    from depth_node.pointcloud import PointCloudBuilder, backproject_numpy
    from depth_node.processing import DepthFrameProcessor

    params = load_params(args)
    estimator = build_estimator(params)
    w, h, n = args.width, args.height, args.repeats
    messages = MessageSet.from_rosbags()
    store = messages.typestore
    rgb = _synthetic_frame(w, h)
    header = messages.header(1_700_000_000_000_000_000, "camera_optical_frame")
    camera = CameraModel(w, h, 0.8 * w, 0.8 * w, (w - 1) / 2, (h - 1) / 2)
    # Messages as they come off the wire: deserialised from CDR, so the data is a view of a buffer.
    raw_msg = store.deserialize_cdr(
        store.serialize_cdr(messages.image(rgb, "rgb8", header), "sensor_msgs/msg/Image"),
        "sensor_msgs/msg/Image",
    )
    bgr_msg = store.deserialize_cdr(
        store.serialize_cdr(messages.image(rgb[..., ::-1], "bgr8", header), "sensor_msgs/msg/Image"),
        "sensor_msgs/msg/Image",
    )
    jpeg_msg = messages.compressed_image(rgb, "rgb8", header, "jpeg")
    info_msg = messages.camera_info(camera, header)
    depth = estimator.predict(rgb, camera)
    depth_dense = np.where(np.isfinite(depth), depth, 2.0).astype(np.float32)
    builder = PointCloudBuilder()
    batch = estimator.preprocess(rgb)
    raw_out = estimator._forward(batch)
    processor = DepthFrameProcessor(messages, estimator, params)

    timed = partial(median_ms, repeats=n, warmup=3)
    r: dict[str, Any] = {"width": w, "height": h, "provider": estimator.provider, "repeats": n}
    r["decode_rgb8_ms"] = timed(lambda _: image_codec.to_rgb8(*decode_image(raw_msg)))
    r["decode_bgr8_ms"] = timed(lambda _: image_codec.to_rgb8(*decode_image(bgr_msg)))
    r["decode_jpeg_ms"] = timed(lambda _: image_codec.to_rgb8(*decode_image(jpeg_msg)))
    r["preprocess_ms"] = timed(lambda _: estimator.preprocess(rgb))
    r["preprocess_reference_ms"] = timed(lambda _: estimator.preprocess_reference(rgb))
    r["forward_ms"] = timed(lambda _: estimator._forward(batch))
    r["postprocess_ms"] = timed(lambda _: estimator.postprocess(raw_out, camera))
    r["cloud_xyz_ms"] = timed(lambda _: builder.build(depth_dense, camera))
    r["cloud_numpy_baseline_ms"] = timed(lambda _: backproject_numpy(depth_dense, camera))
    r["cloud_xyzrgb_ms"] = timed(lambda _: builder.build(depth_dense, camera, rgb))
    r["cloud_msg_ms"] = timed(lambda _: messages.point_cloud(builder.build(depth_dense, camera), header))
    # The floor-scale fit (floor_scale: true) is part of inference; its price next to the forward pass.
    floor = replace(params, floor_scale=True).floor_scaler()
    assert floor is not None
    r["floor_scale_ms"] = timed(lambda _: floor.apply(depth, camera))
    # The affine floor fit (floor_scale_mode: affine, relative models): RANSAC line on the inverse depth.
    affine = replace(params, floor_scale=True, floor_scale_mode="affine").floor_scaler()
    assert affine is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = (1.0 / depth).astype(np.float32)
    r["floor_affine_ms"] = timed(lambda _: affine.fit(inverse, camera))
    # A distorted camera (plumb_bob, edges moved by ~30 px at 640 wide): the cached remap before the model.
    from depth_node.msgs import calibration_from_info

    distorted = messages.camera_info(camera, header)
    distorted.d = messages.float64_array([-0.2, 0.03, 0.0, 0.0, 0.0])
    calib, cam_input = calibration_from_info(distorted), params.camera_input()
    r["rectify_ms"] = timed(lambda _: cam_input.view(calib, rgb))  # maps built at warm-up, then reused
    r["camera_info_ms"] = timed(lambda _: processor.camera_input.view(calibration_from_info(info_msg), rgb))
    r["frame_total_ms"] = timed(lambda _: processor.process(raw_msg, info_msg))
    r["around_model_ms"], r["around_model_cpu_ms"] = around_model_ms(messages, estimator, params, raw_msg, info_msg, n)
    r["around_model_share_of_33ms"] = r["around_model_ms"] / FRAME_BUDGET_MS
    r["cloud_vs_numpy"] = r["cloud_xyz_ms"] / r["cloud_numpy_baseline_ms"]
    # The obstacle_avoidance step on its own 640x480 depth frame (target: total median under 5 ms).
    from navigation.bench import bench_navigation, bench_navigation_at

    for stage, ms in bench_navigation(repeats=n).items():
        r[f"nav_{stage}_ms"] = ms
    # Larger cameras: the scan's first frame (which builds its geometry) and the warm step.
    for nav_w, nav_h in ((1280, 720), (1920, 1080)):
        for stage, ms in bench_navigation_at(nav_w, nav_h, max(3, n // 5)).items():
            r[f"nav_{nav_w}x{nav_h}_{stage}_ms"] = ms
    from depth_node.detection.bench import detector_stages

    r.update(detector_stages(args.detector_model, rgb, n))
    return r


class _ForwardTimer:
    """An estimator stand-in that records each forward pass's wall and thread CPU time (per-frame subtraction)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self.last_forward_s = 0.0
        self.last_forward_cpu_s = 0.0

    def predict(self, rgb: np.ndarray, camera: Any) -> np.ndarray:
        """The estimator's predict, with its forward pass timed."""
        batch = self.estimator.preprocess(rgb)
        start, start_cpu = time.perf_counter(), time.thread_time()
        raw = self.estimator._forward(batch)
        self.last_forward_s = time.perf_counter() - start
        self.last_forward_cpu_s = time.thread_time() - start_cpu
        return np.asarray(self.estimator.postprocess(raw, camera))

    def predict_outputs(self, rgb: np.ndarray, camera: Any, focal_known: bool = True) -> Any:
        """What the frame processor calls: :meth:`predict`'s depth (no confidence is timed)."""
        from depth_node.estimator import DepthOutputs

        return DepthOutputs(self.predict(rgb, camera))


def around_model_ms(
    messages: Any, estimator: Any, params: Any, image_msg: Any, info_msg: Any, repeats: int
) -> tuple[float, float]:
    """Medians over frames of (whole frame - its own forward pass), wall and thread CPU time, ms.

    Subtracting the two stages' separate medians would add the noise of both on a shared machine; here
    each frame's forward pass is subtracted from that same frame's total. The CPU time of the calling
    thread is what the work costs whatever else the machine runs (a busy machine inflates the wall time).
    """
    from depth_node.processing import DepthFrameProcessor

    timer = _ForwardTimer(estimator)
    processor = DepthFrameProcessor(messages, cast(Any, timer), params)
    wall, cpu = [], []
    for i in range(repeats + 3):
        start, start_cpu = time.perf_counter(), time.thread_time()
        processor.process(image_msg, info_msg)
        if i >= 3:
            wall.append(time.perf_counter() - start - timer.last_forward_s)
            cpu.append(time.thread_time() - start_cpu - timer.last_forward_cpu_s)
    return 1000.0 * statistics.median(wall), 1000.0 * statistics.median(cpu)


def check_args(args: argparse.Namespace) -> None:
    """Refuse, in one line, sizes a median or a frame cannot have.

    Raises:
        ParameterError: ``--repeats`` below 1 (no median of nothing), or a frame under 2x2 pixels.
    """
    from depth_node.errors import ParameterError

    if args.repeats < 1:
        raise ParameterError(f"--repeats must be >= 1 (a median needs a sample), got {args.repeats}")
    if args.width < 2 or args.height < 2:
        raise ParameterError(f"--width and --height must be >= 2 pixels, got {args.width}x{args.height}")


def run(args: argparse.Namespace) -> int:
    """Print the medians (or run the soak)."""
    check_args(args)
    if args.soak or args.soak_rate != 30.0:
        return _run_soak(args)
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"depth-node bench: {result['width']}x{result['height']}, {result['provider']}, median of {result['repeats']}"
    )
    for key, value in result.items():
        if key.endswith("_ms"):
            print(f"  {key:<28} {value:8.3f}")
    print(f"  cloud / numpy baseline       {result['cloud_vs_numpy']:8.2f}x")
    print(
        f"  work around the model        {result['around_model_share_of_33ms']:8.1%} of a 33 ms frame "
        f"(its thread's CPU time: {result['around_model_cpu_ms'] / FRAME_BUDGET_MS:.1%})"
    )
    print(f"  {'navigation step (640x480)':<28} {result['nav_total_ms']:8.3f} ms (target < 5 ms)")
    for size in ("1280x720", "1920x1080"):
        label = f"navigation step ({size})"
        print(
            f"  {label:<28} {result[f'nav_{size}_total_ms']:8.3f} ms, scan first frame "
            f"{result[f'nav_{size}_scan_first_ms']:.1f} ms"
        )
    if "detector_skipped" in result:
        print(f"  detector: skipped, {result['detector_skipped']}")
    else:
        print(
            f"  detector: {Path(result['detector_model']).name} ({result['detector_layout']}, "
            f"input {result['detector_input']}, {result['detector_provider']}, "
            f"{result['detector_detections']} detection(s) on the bench frame)"
        )
    return 0


def _run_soak(args: argparse.Namespace) -> int:
    """``--soak``: check the flags, build the processor as the node would, run the stream."""
    from depth_node.commands.soak import run_soak
    from depth_node.msgs import MessageSet
    from depth_node.processing import DepthFrameProcessor

    if not (math.isfinite(args.soak) and args.soak > 0.0):
        raise ParameterError(f"--soak must be a positive number of seconds, got {args.soak}")
    if not (math.isfinite(args.soak_rate) and args.soak_rate >= 0.0):
        raise ParameterError(f"--soak-rate must be >= 0 Hz (0 = as fast as possible), got {args.soak_rate}")
    params = load_params(args)
    processor = DepthFrameProcessor(MessageSet.from_rosbags(), build_estimator(params), params)
    return run_soak(args, processor)
