"""Grid operations of the rolling window (navigation/local_plan.py): growing obstacles by the robot's radius and
the wavefront of shortest 8-connected paths.

They are plain array functions, apart from the window's state, so they are tested against a reference (Dijkstra)
on their own and could serve another grid.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# 8-connected moves. Path lengths overrate headings between the axes and the diagonals by up to 8 %, which
# bends a plan in open space toward those directions; the gap follower steers the last metre anyway. (16-connected
# moves remove most of that, but measured worse in the simulator's cluttered rooms: 7/10 against 8/10.)
_STRAIGHT = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=np.uint8)  # erosion kernels: the 4 + 4 neighbours
_DIAGONAL = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1]], dtype=np.uint8)


def shifted(a: npt.NDArray[Any], di: int, dj: int, fill: object) -> npt.NDArray[Any]:
    """``out[i, j] = a[i + di, j + dj]`` where that exists, ``fill`` elsewhere."""
    out = np.full_like(a, fill)
    n, m = a.shape
    out[max(0, -di) : n - max(0, di), max(0, -dj) : m - max(0, dj)] = a[
        max(0, di) : n - max(0, -di), max(0, dj) : m - max(0, -dj)
    ]
    return out


def inflate(occupied: BoolArray, radius_cells: float) -> BoolArray:
    """Cells within ``radius_cells`` of an occupied cell (the robot's centre may not enter them)."""
    out = occupied.copy()
    reach = math.floor(radius_cells)
    for di in range(-reach, reach + 1):
        for dj in range(-reach, reach + 1):
            if (di or dj) and di * di + dj * dj <= radius_cells * radius_cells:
                out |= shifted(occupied, di, dj, False)
    return out


def _erode(cost: FloatArray, kernel: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
    """The smallest neighbour under ``kernel`` of every cell, +inf beyond the border."""
    return cv2.erode(cost, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=math.inf)


def wavefront(blocked: BoolArray, seed_cost: FloatArray, max_sweeps: int | None = None) -> FloatArray:
    """Shortest 8-connected path cost (in cells) from each free cell to the cheapest seed.

    ``seed_cost`` holds each cell's cost before any move (+inf for no seed); blocked cells stay +inf. Each
    sweep relaxes every cell from its neighbours at once: two grey-level erosions (the cheapest straight
    and the cheapest diagonal neighbour, OpenCV, +inf beyond the border) plus the move's length. A sweep
    thus extends every shortest path by one move, so after ``k`` sweeps each cell whose shortest path has
    at most ``k`` moves holds its exact cost, and the sweeps stop when nothing changes. (The former
    eight shifted numpy views per sweep gave the same costs at three times the price; a planning frame
    paid it twice, 10-40 ms on a busy machine.)
    """
    n, m = blocked.shape
    cost = np.where(blocked, np.inf, np.asarray(seed_cost, dtype=np.float64))
    diagonal = math.sqrt(2.0)
    for _ in range(max_sweeps or 4 * (n + m)):
        straight = np.asarray(_erode(cost, _STRAIGHT), dtype=np.float64)
        corner = np.asarray(_erode(cost, _DIAGONAL), dtype=np.float64)
        straight += 1.0
        corner += diagonal
        np.minimum(straight, corner, out=straight)
        straight[blocked] = np.inf  # never move into a blocked cell
        relaxed = np.minimum(cost, straight)
        if np.array_equal(relaxed, cost):
            break
        cost = relaxed
    return cost
