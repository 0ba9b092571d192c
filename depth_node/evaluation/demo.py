"""The README's main job: record a short drive through a procedural room as a ROS 2 bag, then replay it
through the shipped depth model exactly as the live node would run, and print the report.

Needs no data and no ROS: the drive is rendered by :mod:`depth_node.evaluation.world`, written with real CDR, and read
back by ``depth-node replay``'s own code. The recorded bag carries the renderer's exact depth on
``/camera/depth_gt`` (32FC1), so it can be used to judge the model against ground truth.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from depth_node.camera import CameraModel
from depth_node.evaluation.bagio import AtomicBagDir
from depth_node.evaluation.world import Pose, camera_for, generate_scene, is_free, render, sample_pose
from depth_node.msgs import MessageSet

START_NS = 1_700_000_000_000_000_000
FRAME_PERIOD_NS = 100_000_000  # 10 Hz
STEP_M = 0.08


def drive_poses(kind: str, seed: int, frames: int) -> list[Pose]:
    """Camera poses of a robot driving straight ahead from a random free start, turning away from walls."""
    import numpy as np

    scene = generate_scene(kind, seed)
    pose = sample_pose(scene, np.random.default_rng(seed))
    poses = [pose]
    while len(poses) < frames:
        yaw = pose.yaw
        for turn in (0.0, 0.3, -0.3, 0.6, -0.6, math.pi):
            nx, ny = pose.x + STEP_M * math.cos(yaw + turn), pose.y + STEP_M * math.sin(yaw + turn)
            if is_free(scene, nx, ny, 0.3):
                pose = Pose(nx, ny, pose.z, yaw + turn, pose.pitch)
                break
        poses.append(pose)
    return poses


def record_drive(out: Path, kind: str, seed: int, frames: int, camera: CameraModel, overwrite: bool = True) -> Path:
    """Write the drive as an MCAP bag: /camera/image_raw (rgb8), /camera/camera_info, /camera/depth_gt."""
    messages = MessageSet.from_rosbags()
    store = messages.typestore
    scene = generate_scene(kind, seed)
    with AtomicBagDir(out, overwrite=overwrite) as bag:
        w = bag.writer
        conns = {
            "image": w.add_connection("/camera/image_raw", "sensor_msgs/msg/Image", typestore=store),
            "info": w.add_connection("/camera/camera_info", "sensor_msgs/msg/CameraInfo", typestore=store),
            "gt": w.add_connection("/camera/depth_gt", "sensor_msgs/msg/Image", typestore=store),
        }
        for i, pose in enumerate(drive_poses(kind, seed, frames)):
            t = START_NS + i * FRAME_PERIOD_NS
            frame = render(scene, camera, pose)
            header = messages.header(t, "camera_color_optical_frame")
            for key, msg in (
                ("image", messages.image(frame.rgb, "rgb8", header)),
                ("info", messages.camera_info(camera, header)),
                ("gt", messages.image(frame.depth, "32FC1", header)),
            ):
                w.write(conns[key], t, store.serialize_cdr(msg, msg.__msgtype__))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Record a drive, replay it through the depth model, print the report."""
    from depth_node.cli import main as cli_main

    parser = argparse.ArgumentParser(prog="python -m depth_node.evaluation.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output directory")
    parser.add_argument("--kind", default="corridor", help="scene kind: room, corridor, doorway, clutter")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--model", type=Path, help="depth model (default: the shipped one)")
    args = parser.parse_args(argv)
    camera = camera_for(320, 240)
    bag = record_drive(args.out / "drive", args.kind, args.seed, args.frames, camera)
    print(f"recorded {args.frames} frames of a {args.kind} drive into {bag}", file=sys.stderr)
    replay_args = [
        "replay",
        str(bag),
        "--out",
        str(args.out / "replay"),
        "--overwrite",
        "--image-topic",
        "/camera/image_raw",
    ]
    if args.model is not None:
        replay_args += ["--model", str(args.model)]
    code = cli_main(replay_args)
    if code == 0:
        report = json.loads((args.out / "replay" / "report.json").read_text())
        print(json.dumps(report, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
