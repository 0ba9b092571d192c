"""How wide the simulator's ``narrow_gap`` passage looks in the virtual scan, with exact depth and with a model.

    python tools/passage_width.py [MODEL.onnx ...] [--seeds 5] [--distances 2.0,1.5,1.0,0.7]

A camera is put on the passage's centre line (and 0.15 m beside it), facing the partition, at each distance
from the jambs' front faces; each frame goes through the depth model with the simulator's floor scale and
through the controller's :class:`~navigation.freespace.VirtualScanner`, exactly as in a closed-loop run. The
passage's apparent width is the distance between the nearest scan points left and right of its centre line
within the partition's thickness (+5 cm); exact depth gives the true width less what the scan's bins cut
off. Also printed: the ratio of predicted to true depth on the jambs' front faces (1 = exact), whose spread
from frame to frame is what narrows the passage (a point's sideways offset scales with its depth).

Why a tool: a closed-loop run says only that the robot timed out at the passage; this says how much of the
robot's 11-15 cm margin per side the network takes, for any candidate model, in seconds.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.depth_params import DepthNodeParams
from depth_node.estimator import load_estimator
from depth_node.evaluation.scenarios import Scenario, build_scenario
from depth_node.evaluation.world import camera_for, render
from depth_node.evaluation.world_render import Pose
from depth_node.simulation.options import SimOptions, sim_nav_params
from navigation.freespace import VirtualScanner
from navigation.params import ObstacleAvoidanceParams

OFFSETS_M = (0.0, 0.15)  # the camera on the centre line and beside it


@dataclass(frozen=True)
class Passage:
    """The partition of one ``narrow_gap`` scene: where its opening is and how thick it is."""

    wall_x: float
    half_thickness: float
    centre_y: float
    width: float
    toward: float  # +1: the start is at larger x than the wall (the camera faces -x)


def passage(scenario: Scenario) -> Passage:
    """The opening of a ``narrow_gap`` scenario (its two unlabelled wall boxes)."""
    low, high = sorted((b for b in scenario.scene.boxes if b.label is None), key=lambda b: b.center[1])
    y_low, y_high = low.center[1] + low.size[1] / 2, high.center[1] - high.size[1] / 2
    toward = 1.0 if scenario.start.x > low.center[0] else -1.0
    return Passage(low.center[0], low.size[0] / 2, (y_low + y_high) / 2, y_high - y_low, toward)


def apparent_width(
    scanner: VirtualScanner, depth: npt.NDArray[np.float32], camera: CameraModel, pose: Pose, gap: Passage
) -> float:
    """Distance between the nearest scan points either side of the centre line within the partition (inf:
    one side shows no point there)."""
    scan = scanner.scan(depth, camera)
    r = scan.ranges.astype(np.float64)
    ok = np.isfinite(r)
    x = pose.x + r[ok] * np.cos(pose.yaw + scan.angles[ok])
    y = pose.y + r[ok] * np.sin(pose.yaw + scan.angles[ok])
    side = y[np.abs(x - gap.wall_x) <= gap.half_thickness + 0.05] - gap.centre_y
    left, right = side[side > 0], -side[side < 0]
    return float(left.min() + right.min()) if left.size and right.size else math.inf


def measure(model: str | None, seeds: int, distances: list[float]) -> dict[float, tuple[list[float], list[float]]]:
    """Per distance: (apparent widths, front-face depth ratios) over seeds and offsets; ``model`` None = exact."""
    options = SimOptions()
    camera = camera_for(options.width, options.height, options.fx_over_width)
    scanner = VirtualScanner(sim_nav_params(ObstacleAvoidanceParams(), options))
    estimator = load_estimator(model, providers=("cpu",)) if model else None
    mount = DepthNodeParams(
        floor_scale=True, camera_height_m=options.camera_height_m, camera_pitch_rad=options.camera_pitch_rad
    )
    scaler = mount.floor_scaler()
    assert scaler is not None
    out: dict[float, tuple[list[float], list[float]]] = {}
    scenarios = [build_scenario("narrow_gap", seed) for seed in range(seeds)]
    gaps = [passage(scenario) for scenario in scenarios]
    for distance in distances:
        widths, ratios = [], []
        for scenario, gap in zip(scenarios, gaps, strict=True):
            for offset in OFFSETS_M:
                x = gap.wall_x + gap.toward * (gap.half_thickness + distance)
                yaw = math.pi if gap.toward > 0 else 0.0
                pose = Pose(x, gap.centre_y + offset, options.camera_height_m, yaw, options.camera_pitch_rad)
                frame = render(scenario.scene, camera, pose)
                depth = frame.depth
                if estimator is not None:
                    depth, _ = scaler.apply(np.asarray(estimator.predict(frame.rgb, camera), np.float32), camera)
                    face = np.abs(frame.depth - distance) < 0.02 * distance + 0.01
                    if face.any():
                        ratios.append(float(np.median(depth[face] / frame.depth[face])))
                widths.append(apparent_width(scanner, np.asarray(depth, np.float32), camera, pose, gap))
        out[distance] = (widths, ratios)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="ONNX depth models (none: exact depth only)")
    parser.add_argument("--seeds", type=int, default=5, help="narrow_gap seeds 0..N-1 (default 5)")
    parser.add_argument("--distances", default="2.0,1.5,1.0,0.7", help="metres before the jambs (default 2,1.5,1,0.7)")
    args = parser.parse_args(argv)
    try:
        distances = [float(d) for d in args.distances.split(",")]
    except ValueError:
        print(f"error: --distances must be numbers separated by commas, got '{args.distances}'", file=sys.stderr)
        return 2
    if args.seeds < 1 or any(d <= 0.0 for d in distances):
        print("error: --seeds must be >= 1 and every distance > 0", file=sys.stderr)
        return 2
    print("| depth | distance (m) | median width (m) | smallest (m) | no gap | face depth ratio median [min, max] |")
    print("|---|---|---|---|---|---|")
    for model in [None, *args.models]:
        for distance, (widths, ratios) in measure(model, args.seeds, distances).items():
            finite = [w for w in widths if math.isfinite(w)]
            ratio = f"{statistics.median(ratios):.3f} [{min(ratios):.2f}, {max(ratios):.2f}]" if ratios else "-"
            width = f"{statistics.median(finite):.3f} | {min(finite):.3f}" if finite else "- | -"
            print(
                f"| {model or 'exact'} | {distance} | {width} | {len(widths) - len(finite)}/{len(widths)} | {ratio} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
