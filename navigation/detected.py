"""Detections as obstacles for the heading decision and the rolling window: what the depth misses, the detector boxes.

The shipped network lays a low box (8-16 cm under a camera 0.5 m up) flat on the floor: the depth scan never
sees it, while the detector reports it (the simulator's ``low_box`` with the model: every run collided). With
``detection_obstacles`` each detection of a counted class (``detection_obstacle_classes``) becomes an obstacle for
steering and for the window. People never count here: they move (a window would keep their trail), and the
speed law already slows down near them.

- **Distance.** An object standing on the floor meets it at the bottom edge of its 2-D box, and flat-floor
  geometry (the camera's height and pitch: :func:`navigation.fusion.floor_point`) places that contact without the
  network. The depth inside the box (the fusion's robust percentile) is right where the network sees the object
  and too far where it lays the object flat. The floor contact is right for anything standing on the floor with
  its bottom edge in the image (a box, a box against a wall, a walker), and too far for what does not stand on
  the floor (a cup on a table) or whose bottom is hidden behind something nearer. Both errors are "too far", so
  the nearer of the two is taken. A box edge a pixel off moves the contact by about 4 cm at 1.5 m and 14 cm at
  3 m (160x120, 64 degrees).
- **Cut by the image's bottom edge.** The object reaches below the view: its contact is not seen, and the bottom
  row's floor point is only an upper bound. It still closes its bins (at the nearer of that bound and the depth),
  but marks nothing in the window, which holds it from the frames that saw its bottom edge.
- **Scan.** The bins the box spans (its corners' bearings) are closed at the straight line ``x = forward`` (the
  contact's forward distance) for the decision only; the published scan stays the depth's.
- **Window.** The cells from the contact to where the box's top edge meets the floor are marked (a low object on
  the floor lies within the floor under its 2-D box), at most as deep as the box is wide; a tall object (its top
  edge at or above the horizon) only along its front. A low object is marked with the lowest height that counts
  as a low obstacle (``footprint_min_height_m``), whatever its real height: the window keeps a cell while the
  camera could not have seen that height there (navigation/footprint.py), and a lower height keeps it longer,
  never shorter, than the truth. So a box that drops below the view stays; in view the model's rays through the
  flattened box clear its cells and the frame's own detection marks them again (a missed detection leaves them
  cleared for that frame). An object whose top edge passes under ``obstacle_min_height_m`` at its contact is lower
  than the scan's band and not an obstacle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from depth_node.camera import CameraModel
from depth_node.types import Detection2D, Scan
from navigation.freespace import pixel_bearing
from navigation.fusion import (
    box_to_depth_pixels,
    floor_point,
    forward_per_depth,
    pixel_ray,
    robust_depth,
    valid_box,
)
from navigation.params import ObstacleAvoidanceParams

FloatArray = npt.NDArray[np.float64]

# ``detection_obstacle_classes`` entry that counts every class (people still excepted).
ALL_CLASSES = "*"
# A low obstacle is marked in the window at most this deep behind its front. The floor under its 2-D box reaches
# farther (to where its top edge meets the floor: a box seen obliquely shadows the floor beside it, the passage a
# robot needs); the next frames, from nearer and from the side, mark what lies deeper. Measured on low_box with the
# model, seeds 0-4: 0.2-0.3 m all pass, 0.45 m (and the full floor bound) leaves seed 2 boxed in, m.
MARK_DEPTH_M = 0.3
# A scan return this far beyond an obstacle's front still counts as the depth showing it (the depth's own
# error, the box's slant), m.
DEPTH_SHOWS_M = 0.3


@dataclass(frozen=True)
class DetectedObstacle:
    """One detection placed for steering, in the frame's base frame at its stamp.

    Attributes:
        class_id: The detector's class.
        bearing_low: Rightmost bearing of the box's corners, rad.
        bearing_high: Leftmost bearing, rad.
        forward_m: Forward (base x) distance of its nearest point: the nearer of the floor contact and the depth, m.
        far_m: How far forward the window marks it, m (``forward_m`` for a tall object: its front only).
        top_m: The height the window keeps it with (a low object: ``footprint_min_height_m``), m.
        clipped: Its bottom edge is the image's: the contact is not seen (bins only, no window cells).
    """

    class_id: str
    bearing_low: float
    bearing_high: float
    forward_m: float
    far_m: float
    top_m: float
    clipped: bool


@dataclass(frozen=True)
class DetectionMarks:
    """Points of the window cells the frame's detected obstacles cover (base frame polar, with heights).

    Attributes:
        bearings: Bearing of each point, rad.
        ranges: Horizontal range from the point under the camera, m.
        heights: The height each cell is kept with, m.
        hold_bins: Per bin of the frame's scan, whether its ray clears nothing: the bins of an obstacle cut by the
            image's bottom edge, whose cells in view the depth may lay flat and the frame cannot mark (None: none).
    """

    bearings: FloatArray
    ranges: FloatArray
    heights: FloatArray
    hold_bins: npt.NDArray[np.bool_] | None = None


def counts_as_obstacle(class_id: str, params: ObstacleAvoidanceParams) -> bool:
    """Whether detections of ``class_id`` are obstacles for steering: a counted class, never a person nor the target."""
    if class_id in params.person_classes or (params.target_class and class_id == params.target_class):
        return False
    classes = params.detection_obstacle_classes
    return ALL_CLASSES in classes or class_id in classes


def detected_obstacles(
    detections: Iterable[Detection2D],
    depth: npt.NDArray[np.floating],
    camera: CameraModel,
    params: ObstacleAvoidanceParams,
) -> list[DetectedObstacle]:
    """The detections of counted classes as obstacles (see the module's rules).

    Args:
        detections: Boxes in camera-image pixels (or the detector's, see ``detector_width``).
        depth: The frame's depth, float HxW, metres along the optical axis, NaN unknown (2-D: the caller checked).
        camera: Model of the camera image the boxes refer to.
        params: Classes, score threshold, camera mount, fusion settings, band and ``footprint_min_height_m``.
    """
    p = params
    rows, cols = depth.shape
    cam = camera.rescaled(cols, rows)
    pitch, height = p.camera_pitch_rad, p.camera_height_m
    per_depth = forward_per_depth(cam, rows, pitch)
    out: list[DetectedObstacle] = []
    for det in detections:
        if not det.score >= p.min_detection_score or not counts_as_obstacle(det.class_id, p):
            continue
        box = box_to_depth_pixels(det, camera, (rows, cols), p)
        if not valid_box(box, det.score):
            continue
        cu, cv, w, h = box
        bottom, top = cv + 0.5 * h, cv - 0.5 * h
        clipped = bool(bottom >= rows - 0.5)
        contact = floor_point(cam, cu, min(bottom, rows - 0.5), height, pitch)
        by_depth, _ = robust_depth(depth, box, p.box_margin, p.depth_percentile, p.min_valid_pixels, per_depth)
        candidates = [c for c in (contact[0] if contact is not None else math.nan, by_depth) if c > 0.0]
        if not candidates:  # no contact below the horizon and no depth: nowhere to put it
            continue
        forward = min(candidates)
        u = (cu - 0.5 * w, cu + 0.5 * w)
        bearings = pixel_bearing(cam, [u[0], u[1], u[0], u[1]], [bottom, bottom, top, top], pitch)
        low, high = float(np.min(bearings)), float(np.max(bearings))
        t_forward, _, t_down = pixel_ray(cam, cu, top, pitch)
        if t_down <= 1e-9 or t_forward <= 1e-9:  # the top edge at or above the horizon: tall, its front only
            top_m, far = height, forward
        else:
            if height - t_down * forward / t_forward < p.obstacle_min_height_m:  # the top edge's ray at the contact
                continue  # lower than the band even at that upper bound: the robot drives over it
            top_m = p.footprint_min_height_m
            depth_guess = min(forward * (math.tan(high) - math.tan(low)), MARK_DEPTH_M)
            far = max(forward, min(height * t_forward / t_down, forward + depth_guess))
        out.append(DetectedObstacle(det.class_id, low, high, forward, far, top_m, clipped))
    return out


def close_scan(scan: Scan, obstacles: Iterable[DetectedObstacle]) -> Scan:
    """``scan`` with the bins each obstacle spans closed at its front (the line ``x = forward_m``).

    A bin closes when any part of it overlaps the obstacle's bearings; it keeps a nearer return, and a bin not
    measured (NaN) takes the obstacle's range. A front beyond ``range_max`` changes nothing; one nearer than
    ``range_min`` reads -inf, as the scan writes too-close returns.
    """
    angles = scan.angles
    ranges = scan.ranges.astype(np.float64)
    for o in obstacles:
        inside = spanned_bins(scan, o)
        line = o.forward_m / np.cos(np.clip(angles[inside], -1.5, 1.5))
        line = np.where(line < scan.range_min, -np.inf, line)
        ranges[inside] = np.where(line <= scan.range_max, np.fmin(ranges[inside], line), ranges[inside])
    return replace(scan, ranges=ranges.astype(np.float32))


def spanned_bins(scan: Scan, obstacle: DetectedObstacle) -> npt.NDArray[np.bool_]:
    """The bins of ``scan`` any part of which overlaps the obstacle's bearings."""
    angles, half = scan.angles, 0.5 * scan.angle_increment
    return (angles + half >= obstacle.bearing_low) & (angles - half <= obstacle.bearing_high)


def missed_by_depth(scan: Scan, obstacles: Iterable[DetectedObstacle]) -> list[DetectedObstacle]:
    """The obstacles the depth's own scan does not show: fewer than half the bins each spans hold a return (or a
    too-close one) nearer than its front plus ``DEPTH_SHOWS_M``.

    Where the depth shows the object (a tall box, anything with exact depth) the scan and the footprint already
    hold it, better than a 2-D box can (its far side, its real height); the detection would add only its noise.
    """
    angles, ranges = scan.angles, scan.ranges.astype(np.float64)
    out = []
    for o in obstacles:
        inside = spanned_bins(scan, o)
        if not inside.any():
            out.append(o)
            continue
        limit = o.forward_m / np.cos(np.clip(angles[inside], -1.5, 1.5)) + DEPTH_SHOWS_M
        with np.errstate(invalid="ignore"):
            shown = ranges[inside] <= limit  # NaN (not measured) and +inf (nothing) do not show it
        if np.count_nonzero(shown) < 0.5 * shown.size:
            out.append(o)
    return out


def detection_marks(
    obstacles: Sequence[DetectedObstacle], spacing_m: float, range_m: float, scan: Scan | None = None
) -> DetectionMarks:
    """Points every ``spacing_m`` over each unclipped obstacle's region (bearings x forward ``forward_m``..``far_m``)
    within ``range_m``: the window marks the cells they fall in; with the frame's ``scan``, the bins of the
    clipped ones are held (their rays clear nothing)."""
    hold = None
    if scan is not None and any(o.clipped for o in obstacles):
        hold = np.zeros(scan.ranges.size, dtype=bool)
        for o in obstacles:
            if o.clipped:
                hold |= spanned_bins(scan, o)
    bearings: list[FloatArray] = []
    ranges: list[FloatArray] = []
    heights: list[FloatArray] = []
    step = max(spacing_m, 1e-3)
    for o in obstacles:
        if o.clipped or o.forward_m > range_m:
            continue
        forwards = np.arange(o.forward_m, min(o.far_m, range_m) + 1e-9, step)
        lateral_low, lateral_high = math.tan(o.bearing_low), math.tan(o.bearing_high)
        for f in forwards:
            ys = np.append(np.arange(f * lateral_low, f * lateral_high, step), f * lateral_high)
            xs = np.full(ys.shape, f)
            dist = np.hypot(xs, ys)
            keep = dist <= range_m
            bearings.append(np.arctan2(ys[keep], xs[keep]))
            ranges.append(dist[keep])
            heights.append(np.full(int(keep.sum()), o.top_m))
    if not bearings:
        return DetectionMarks(np.empty(0), np.empty(0), np.empty(0), hold)
    return DetectionMarks(np.concatenate(bearings), np.concatenate(ranges), np.concatenate(heights), hold)
