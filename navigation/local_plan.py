"""A rolling local obstacle grid and the heading of the shortest way out of it toward the goal.

A gap follower sees 60 degrees and a few seconds; in clutter it walks into pockets that face the goal and then
turns between "towards the goal" and "away from the wall" for good. Nav2 and move_base answer that with a
rolling local costmap and a local plan; this is the same idea at the scale of a camera: a window of a few metres
around the robot, in the odometry frame, that remembers where the virtual scan hit something (and forgets it
when a later ray passes through, or after ``plan_memory_s``). It is not a map: nothing outside the window is
kept, and nothing is localised.

A ray clears the cells it passes, but not a hit that lies outside the fan of the scan's beams: a cell is a
tenth of a metre, and the outermost beam passes millimetres from a box corner just beyond the view and
through its cell. Erased that way, the corner was later swept by the robot's side as it turned toward it,
never having been in view again (the simulator's collisions with exact depth). Inside the fan a grazed real
obstacle is marked again by its own beam in the same scan; a phantom of a noisy depth frame is not, and goes.
Inside the fan any ray through the cell clears it, as before. Clearing only when a beam sees through the exact
point that was hit (as Nav2's spatio-temporal voxel layer does) kept noisy depth's phantoms too long: it cost
the model-depth runs a third of their cluttered-room successes.

Each depth frame the window's free cells get a navigation function toward the goal: a wavefront (8-connected
shortest paths) seeded on the window's border with the straight-line cost from there to the goal, so every
exit is ranked by where it leads, and on the goal cell itself when it is inside. The robot then follows the
steepest descent for ``plan_carrot_m`` and hands the bearing of that point to the gap follower as its desired
heading. The field has no local minima, so the desired heading leads out of a pocket instead of into it;
cells never seen count as free (the robot turns to look before it drives there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from navigation.detected import DetectionMarks
from navigation.footprint import Footprint, FootprintCells, PolarPoints, View, footprint_cells
from navigation.grid import shifted, wavefront
from navigation.memory import base_polar
from navigation.pose import wrap_angle

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Waypoint:
    """A point of the window's plan: where it is (odometry frame), its bearing from the robot (base frame), its
    path length from the robot and its score (path + cost to the goal + the turn to face it), m."""

    x: float
    y: float
    bearing: float
    path_m: float
    score: float


class LocalPlanner:
    """The rolling obstacle window and its navigation function (odometry frame, metres)."""

    def __init__(
        self, window_m: float, resolution_m: float, memory_s: float, max_range_m: float, hold_unseen_m: float = 0.0
    ) -> None:
        """Args: window_m: side of the square window; resolution_m: cell size; memory_s: how long a hit
        is kept when no ray clears it; max_range_m: scan returns beyond this neither mark nor clear;
        hold_unseen_m: hits this close to the robot that a frame cannot see do not age during that frame."""
        self.resolution = float(resolution_m)
        self.hold_unseen_m = float(hold_unseen_m)
        self._last_stamp: float | None = None  # the previous integrated frame's stamp (ageing held cells)
        self.cells = max(8, math.ceil(window_m / resolution_m))
        self.memory_s = float(memory_s)
        self.max_range = float(max_range_m)
        self._hit = np.full((self.cells, self.cells), -np.inf)  # stamp of the last hit, [ix, iy]
        self._point = np.zeros((2, self.cells, self.cells))  # odometry (x, y) of that hit
        self._top = np.zeros((self.cells, self.cells))  # height of what was seen there (footprints only), m
        self._origin: tuple[float, float] | None = None  # odometry coordinates of cell (0, 0)'s corner

    # --- the window ------------------------------------------------------------------------------

    @property
    def origin(self) -> tuple[float, float]:
        """Odometry coordinates of the window's lower-left corner (after the first :meth:`integrate`)."""
        assert self._origin is not None, "integrate a scan first"
        return self._origin

    def occupied(self, stamp_s: float) -> BoolArray:
        """Cells with a hit no older than ``memory_s`` ([ix, iy], x along the first axis)."""
        return self._hit >= stamp_s - self.memory_s

    def occupied_points(self, stamp_s: float) -> FloatArray:
        """Odometry (x, y) of the occupied cells' centres, (N, 2) (what the window holds, for diagnostics)."""
        if self._origin is None:
            return np.empty((0, 2))
        ix, iy = np.nonzero(self.occupied(stamp_s))
        return np.stack(
            [self._origin[0] + (ix + 0.5) * self.resolution, self._origin[1] + (iy + 0.5) * self.resolution], axis=1
        )

    def hit_points(self, stamp_s: float) -> FloatArray:
        """Odometry (x, y) of the remembered hits themselves (one per occupied cell, the latest), (N, 2)."""
        if self._origin is None:
            return np.empty((0, 2))
        ix, iy = np.nonzero(self.occupied(stamp_s))
        return np.stack([self._point[0, ix, iy], self._point[1, ix, iy]], axis=1)

    def obstacles_near(
        self, stamp_s: float, pose: tuple[float, float, float], range_m: float
    ) -> tuple[FloatArray, FloatArray]:
        """(bearings, distances) in the base frame of the occupied cells' centres within ``range_m``."""
        if self._origin is None:
            return np.empty(0), np.empty(0)
        ix, iy = np.nonzero(self.occupied(stamp_s))
        x = self._origin[0] + (ix + 0.5).astype(np.float64) * self.resolution
        y = self._origin[1] + (iy + 0.5).astype(np.float64) * self.resolution
        bearing, dist = base_polar(x, y, pose)
        near = dist <= range_m
        return bearing[near], dist[near]

    def _recentre(self, x: float, y: float) -> None:
        """Keep the robot within the middle half of the window, shifting by whole cells (hits move along)."""
        half = 0.5 * self.cells * self.resolution
        if self._origin is None:
            self._origin = (x - half, y - half)
            return
        ox, oy = self._origin
        shift = [0, 0]
        for axis, (p, o) in enumerate(((x, ox), (y, oy))):
            offset = p - (o + half)
            if abs(offset) > 0.25 * self.cells * self.resolution:
                shift[axis] = round(offset / self.resolution)
        if shift == [0, 0]:
            return
        self._hit = shifted(self._hit, shift[0], shift[1], -np.inf)
        self._point = np.stack([shifted(p, shift[0], shift[1], 0.0) for p in self._point])
        self._top = shifted(self._top, shift[0], shift[1], 0.0)
        self._origin = (ox + shift[0] * self.resolution, oy + shift[1] * self.resolution)

    def _cells_of(self, x: FloatArray, y: FloatArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], BoolArray]:
        ox, oy = self.origin
        ix = np.floor((x - ox) / self.resolution).astype(np.intp)
        iy = np.floor((y - oy) / self.resolution).astype(np.intp)
        inside = (ix >= 0) & (ix < self.cells) & (iy >= 0) & (iy < self.cells)
        return ix, iy, inside

    def integrate(
        self,
        stamp_s: float,
        angles: FloatArray,
        ranges: FloatArray,
        pose: tuple[float, float, float],
        footprint: Footprint | None = None,
        min_points: int = 1,
        marks: DetectionMarks | None = None,
    ) -> None:
        """Add a virtual scan (base-frame bearings, ascending, and ranges) taken at ``pose`` (x, y, yaw).

        Every ray clears the cells it passes (up to one cell short of its return, or ``max_range_m``), except
        a cell whose remembered hit lies outside the scan's fan; then the returns within ``max_range_m`` mark
        their cells. Not-measured bins (NaN) and too-close ones (-inf) change nothing.

        With the frame's ``footprint`` (:mod:`navigation.footprint`) a ray clears a cell only where the camera
        could have seen what was there (a low box below the view stays), and every cell holding at least
        ``min_points`` of the frame's in-band points is marked too (the whole top of a low box, not its front
        edge only), with the height seen there.

        ``marks``: the cells of the frame's detected obstacles (:mod:`navigation.detected`), marked after the
        rays cleared, each with its height (what the depth lays flat, the frame's detections mark again); the
        rays of its held bins (an obstacle cut by the image's bottom edge) clear nothing.
        """
        x0, y0, yaw = pose
        self._recentre(x0, y0)
        r = np.asarray(ranges, dtype=np.float64)
        a = np.asarray(angles, dtype=np.float64)
        measured = np.isfinite(r) | np.isposinf(r)
        if marks is not None and marks.hold_bins is not None and marks.hold_bins.shape == r.shape:
            measured &= ~marks.hold_bins
        clear_to = np.minimum(r[measured] - self.resolution, self.max_range)
        t = np.arange(0.0, self.max_range, 0.5 * self.resolution)
        along = t[None, :] < clear_to[:, None]
        heading = a[measured] + yaw
        xs = x0 + t[None, :] * np.cos(heading)[:, None]
        ys = y0 + t[None, :] * np.sin(heading)[:, None]
        ix, iy, inside = self._cells_of(xs[along], ys[along])
        ix, iy = ix[inside], iy[inside]
        held = np.isfinite(self._hit[ix, iy])
        hx, hy = ix[held], iy[held]  # the cells with a hit to clear (most cells a ray passes are empty)
        if a.size:
            # A ray grazing a cell is no evidence about a hit in it that no beam covered: the outermost beam
            # passes millimetres from a box corner just outside the view and would erase it.
            bearing, dist = base_polar(self._point[0, hx, hy], self._point[1, hx, hy], pose)
            if footprint is None:
                seen = (bearing >= a[0]) & (bearing <= a[-1])
            else:
                seen = footprint.view.sees(bearing, dist, self._top[hx, hy])
            hx, hy = hx[seen], hy[seen]
        self._hit[hx, hy] = -np.inf
        hit = np.isfinite(r) & (r <= self.max_range)
        xs, ys = x0 + r[hit] * np.cos(a[hit] + yaw), y0 + r[hit] * np.sin(a[hit] + yaw)
        ix, iy, inside = self._cells_of(xs, ys)
        self._hit[ix[inside], iy[inside]] = float(stamp_s)
        self._point[0, ix[inside], iy[inside]] = xs[inside]
        self._point[1, ix[inside], iy[inside]] = ys[inside]
        if footprint is not None:
            self._top[ix[inside], iy[inside]] = 0.0  # no footprint point there: not trusted low (View.min_top_m)
        if marks is not None and marks.ranges.size:
            self._mark_points(stamp_s, marks, pose)
        if footprint is not None:
            self._mark_footprint(stamp_s, footprint, pose, min_points)
        self._hold_unseen(stamp_s, pose, a, footprint)

    def _hold_unseen(
        self, stamp_s: float, pose: tuple[float, float, float], angles: FloatArray, footprint: Footprint | None
    ) -> None:
        """Age by the frame interval only the hits this frame could have seen again: a hit within
        ``hold_unseen_m`` that lies beside, behind or below the view has its stamp moved on by the interval.

        A thin table leg seen once and then kept beside the robot while it creeps among the legs is otherwise
        forgotten after ``memory_s`` although it is still there, half a metre away, and the robot drives into
        it the moment the aim swings past it (thin_legs 6 and 7). A hit the camera can see is cleared by the
        next ray or renewed by the next return, so only the unseen ones need holding.
        """
        last, self._last_stamp = self._last_stamp, float(stamp_s)
        if self.hold_unseen_m <= 0.0 or last is None or stamp_s <= last:
            return
        ix, iy = np.nonzero(self.occupied(last) & (self._hit < stamp_s))  # not marked by this frame
        bearing, dist = base_polar(self._point[0, ix, iy], self._point[1, ix, iy], pose)
        near = dist <= self.hold_unseen_m
        ix, iy, bearing, dist = ix[near], iy[near], bearing[near], dist[near]
        if footprint is not None:
            seen = footprint.view.sees(bearing, dist, self._top[ix, iy])
        elif angles.size:
            seen = (bearing >= angles[0]) & (bearing <= angles[-1])
        else:
            seen = np.zeros(bearing.shape, dtype=bool)
        self._hit[ix[~seen], iy[~seen]] += stamp_s - last

    def _mark_points(self, stamp_s: float, marks: PolarPoints, pose: tuple[float, float, float]) -> None:
        """Mark every cell a point of ``marks`` falls in, with the highest of their heights."""
        self._set_cells(stamp_s, footprint_cells(marks, pose, self.origin, self.resolution, self.cells))

    def _set_cells(self, stamp_s: float, cells: FootprintCells, keep: BoolArray | None = None) -> None:
        """Mark ``cells`` (those where ``keep``) as hit at ``stamp_s``, with their heights and mean points."""
        pick = slice(None) if keep is None else keep
        ix, iy = cells.ix[pick], cells.iy[pick]
        self._hit[ix, iy] = float(stamp_s)
        self._top[ix, iy] = cells.top[pick]
        self._point[0, ix, iy] = cells.x[pick]
        self._point[1, ix, iy] = cells.y[pick]

    def _mark_footprint(
        self, stamp_s: float, footprint: Footprint, pose: tuple[float, float, float], min_points: int
    ) -> None:
        """Mark the cells of the footprint (:func:`navigation.footprint.footprint_cells`) with their heights; a cell
        the scan marked this frame keeps the height of whatever in-band points fell in it."""
        cells = footprint_cells(footprint, pose, self.origin, self.resolution, self.cells)
        scan_marked = self._hit[cells.ix, cells.iy] == float(stamp_s)
        self._top[cells.ix[scan_marked], cells.iy[scan_marked]] = cells.top[scan_marked]
        self._set_cells(stamp_s, cells, cells.count >= max(min_points, 1))

    def unseen_near(
        self,
        stamp_s: float,
        pose: tuple[float, float, float],
        range_m: float,
        view: View,
        beside_below_m: float = math.inf,
    ) -> tuple[FloatArray, FloatArray]:
        """(bearings, distances) of the occupied cells within ``range_m`` that a frame with ``view`` cannot see
        at ``pose``: below the view (nearer than where the camera sees their height), and beside or behind it
        when what was seen there is lower than ``beside_below_m``."""
        if self._origin is None:
            return np.empty(0), np.empty(0)
        ix, iy = np.nonzero(self.occupied(stamp_s))
        x = self._origin[0] + (ix + 0.5).astype(np.float64) * self.resolution
        y = self._origin[1] + (iy + 0.5).astype(np.float64) * self.resolution
        bearing, dist = base_polar(x, y, pose)
        top = view.trusted_tops(self._top[ix, iy])
        limit = view.near_limit(bearing, top)
        keep = (dist <= range_m) & (dist < limit) & (np.isfinite(limit) | (top < beside_below_m))
        return bearing[keep], dist[keep]

    # --- planning --------------------------------------------------------------------------------

    def heading(
        self,
        stamp_s: float,
        pose: tuple[float, float, float],
        goal: tuple[float, float] | None,
        goal_heading: float,
        clearance_m: float,
        carrot_m: float,
        turn_cost_m_per_rad: float,
    ) -> float | None:
        """Bearing (base frame) of the best point ``carrot_m`` of path away, or None when the robot is enclosed.

        The candidates are the free cells at that path length from the robot (and the goal when it is nearer);
        each is scored by its path from the robot plus its cost to the goal plus ``turn_cost_m_per_rad`` times
        the turn to face it. The turn term is what a robot that turns in place really pays, and it keeps the
        choice between two equally long ways around an obstacle from flipping frame to frame: once the robot
        turns toward one, that one gets cheaper.

        Args:
            stamp_s: Now (hits older than ``memory_s`` are gone).
            pose: Robot (x, y, yaw) in the odometry frame.
            goal: Goal point in the odometry frame, or None to head along ``goal_heading`` indefinitely.
            goal_heading: Odometry-frame heading used when ``goal`` is None.
            clearance_m: Cells whose centre lies within this (robot radius plus margin) of a hit are blocked.
            carrot_m: Path length to the point whose bearing is returned.
            turn_cost_m_per_rad: Metres of path one radian of turning is worth (top speed / top turn rate).
        """
        way = self.waypoint(stamp_s, pose, goal, goal_heading, clearance_m, carrot_m, turn_cost_m_per_rad)
        return None if way is None else way.bearing

    def waypoint(
        self,
        stamp_s: float,
        pose: tuple[float, float, float],
        goal: tuple[float, float] | None,
        goal_heading: float,
        clearance_m: float,
        carrot_m: float,
        turn_cost_m_per_rad: float,
        keep: tuple[float, float] | None = None,
        keep_margin_m: float = 0.0,
    ) -> Waypoint | None:
        """The point :meth:`heading` steers for, as a :class:`Waypoint`; or ``keep``, a point chosen before.

        ``keep`` (odometry frame) is returned again (with its bearing and score from here) while it is still
        reachable within ``carrot_m`` of path and its score is at most ``keep_margin_m`` worse than the best
        point's: a way once chosen is not dropped for one that is only a little better (navigation/commit.py).
        Arguments as :meth:`heading`.
        """
        if self._origin is None:
            return None
        x, y, yaw = pose
        res = self.resolution
        blocked = self.inflated(stamp_s, clearance_m)
        to_goal = self.cost_to_go(blocked, goal, goal_heading, pose)
        ix, iy, inside = self._cells_of(np.array([x]), np.array([y]))
        if not inside[0]:
            return None
        start = self._start_cell(to_goal, int(ix[0]), int(iy[0]), clearance_m)
        if start is None:
            return None
        seed = np.full(to_goal.shape, np.inf)
        seed[start] = 0.0
        from_robot = res * wavefront(blocked, seed, max_sweeps=int(carrot_m / res) + 3)
        cx, cy = self._centres()
        bearing = (np.arctan2(cy - y, cx - x) - yaw + math.pi) % (2.0 * math.pi) - math.pi
        score = from_robot + to_goal + turn_cost_m_per_rad * np.abs(bearing)
        candidates = (np.abs(from_robot - carrot_m) <= res) | ((to_goal == 0.0) & (from_robot <= carrot_m))
        candidates &= np.isfinite(score)
        if not candidates.any():  # enclosed closer than carrot_m: the best reachable cell
            candidates = np.isfinite(score) & (from_robot > 0.0)
            if not candidates.any():
                return None
        best = np.unravel_index(np.argmin(np.where(candidates, score, np.inf)), score.shape)
        if keep is not None:
            ki, kj, kin = self._cells_of(np.array([keep[0]]), np.array([keep[1]]))
            if kin[0]:
                cell = (int(ki[0]), int(kj[0]))
                if from_robot[cell] <= carrot_m + res and score[cell] <= score[best] + keep_margin_m:
                    kb = math.atan2(keep[1] - y, keep[0] - x) - yaw
                    return Waypoint(keep[0], keep[1], wrap_angle(kb), float(from_robot[cell]), float(score[cell]))
        return Waypoint(
            float(cx[best]), float(cy[best]), float(bearing[best]), float(from_robot[best]), float(score[best])
        )

    def inflated(self, stamp_s: float, clearance_m: float) -> BoolArray:
        """Cells whose centre lies within ``clearance_m`` of a remembered hit point (or that hold one).

        :func:`navigation.grid.inflate` grows whole cells by the radius plus half a cell, which closes a passage
        whose free width is within a cell of the robot's: the sides' hits are rounded to their cells' centres. Measured
        from the hit points themselves the plan sees the passage the gap follower sees (the simulator's
        ``narrow_gap``, 1.45-1.6 robot widths).
        """
        occupied = self.occupied(stamp_s)
        ix, iy = np.nonzero(occupied)
        out = occupied.copy()
        if ix.size == 0:
            return out
        res, (ox, oy) = self.resolution, self.origin
        px, py = self._point[0, ix, iy], self._point[1, ix, iy]
        reach = math.ceil(clearance_m / res) + 1
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                i, j = ix + di, iy + dj
                inside = (i >= 0) & (i < self.cells) & (j >= 0) & (j < self.cells)
                cx, cy = ox + (i + 0.5) * res, oy + (j + 0.5) * res
                near = inside & ((cx - px) ** 2 + (cy - py) ** 2 < clearance_m * clearance_m)
                out[i[near], j[near]] = True
        return out

    def _centres(self) -> tuple[FloatArray, FloatArray]:
        """Odometry coordinates of every cell's centre, as two [ix, iy] arrays."""
        ox, oy = self.origin
        centres = (np.arange(self.cells) + 0.5) * self.resolution
        cx, cy = np.meshgrid(ox + centres, oy + centres, indexing="ij")
        return cx, cy

    def cost_to_go(
        self,
        blocked: BoolArray,
        goal: tuple[float, float] | None,
        goal_heading: float,
        pose: tuple[float, float, float],
    ) -> FloatArray:
        """Metres from each free cell to the goal: in the window by the wavefront, beyond it in a straight line."""
        n, res = self.cells, self.resolution
        cx, cy = self._centres()
        if goal is not None:
            beyond = np.hypot(cx - goal[0], cy - goal[1])
        else:  # progress along the heading; any constant offset is fine
            beyond = -((cx - pose[0]) * math.cos(goal_heading) + (cy - pose[1]) * math.sin(goal_heading))
            beyond -= beyond.min()
        seed = np.full((n, n), np.inf)
        border = np.zeros((n, n), dtype=bool)
        border[[0, -1], :] = True
        border[:, [0, -1]] = True
        seed[border] = beyond[border] / res
        if goal is not None:
            gi, gj, inside = self._cells_of(np.array([goal[0]]), np.array([goal[1]]))
            if inside[0]:
                seed[gi[0], gj[0]] = 0.0
        return res * wavefront(blocked, seed)

    def _start_cell(self, cost: FloatArray, i: int, j: int, clearance_m: float) -> tuple[int, int] | None:
        """The robot's cell, or when it is inside the inflation (close to something) the best reachable nearby one."""
        if math.isfinite(cost[i, j]):
            return i, j
        reach = math.ceil(clearance_m / self.resolution) + 1
        best: tuple[float, int, int] | None = None
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                a, b = i + di, j + dj
                if 0 <= a < self.cells and 0 <= b < self.cells and math.isfinite(cost[a, b]):
                    key = (cost[a, b] + self.resolution * math.hypot(di, dj), a, b)
                    best = key if best is None or key < best else best
        return None if best is None else (best[1], best[2])
