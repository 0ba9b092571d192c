"""The scan frame: a level, z-up frame at the camera, where the virtual scan means what a LaserScan says.

A ``sensor_msgs/LaserScan`` turns its angles about the z axis of its frame and starts at +x. The camera
optical frame has z forward, so a scan stamped with it is drawn by RViz, Foxglove and a Nav2 costmap as a
vertical fan. The navigation core computes its scan in a level frame at the camera instead (x forward along
the camera's heading, y left, z up; see :mod:`navigation.freespace`), and this module names that frame's
relation to the optical frame: a pure rotation by the camera pitch, with the same origin (the optical
centre, ``camera_height_m`` above the floor). The obstacle_avoidance node publishes it on ``/tf_static``
(optical frame -> scan frame), so a robot only has to provide base_link -> the camera's optical frame, as
every camera driver or URDF does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

# REP-105 frame names of the robot (the frame of cmd_vel, of odometry's child and of the camera mount's parent).
BASE_FRAME = "base_link"
ODOM_FRAME = "odom"


def scan_from_optical(pitch_rad: float) -> npt.NDArray[np.float64]:
    """Rotation taking optical-frame coordinates (x right, y down, z forward) to the scan frame (x forward,
    y left, z up) of a camera pitched down by ``pitch_rad``."""
    c, s = math.cos(pitch_rad), math.sin(pitch_rad)
    return np.array([[0.0, -s, c], [-1.0, 0.0, 0.0], [0.0, -c, -s]], dtype=np.float64)


def level_from_optical(x: Any, y: Any, z: Any, pitch_rad: float) -> tuple[Any, Any, Any]:
    """(forward, left, down) in the level frame at the camera of optical-frame vectors (x right, y down, z forward)
    of a camera pitched down by ``pitch_rad``: the pitched-camera ray geometry, written once.

    With ``z = 1`` (a ray per metre of depth along the optical axis) ``forward`` is the horizontal reach and
    ``down`` the drop per metre of depth, so a pixel of depth ``d`` lies ``h - d * down`` above the floor. The
    same rotation as :func:`scan_from_optical` (scan x = forward, y = left, z = -down), in components, for
    arrays of rays. Scalars or numpy arrays.
    """
    c, s = math.cos(pitch_rad), math.sin(pitch_rad)
    return z * c - y * s, -x, y * c + z * s


def optical_to_scan(points: npt.ArrayLike, pitch_rad: float) -> npt.NDArray[np.float64]:
    """Optical-frame points (..., 3) in the scan frame (..., 3)."""
    return np.asarray(points, dtype=np.float64) @ scan_from_optical(pitch_rad).T


def quaternion_from_matrix(rot: npt.ArrayLike) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a proper rotation matrix (Shepperd's method: stable for every rotation)."""
    m = np.asarray(rot, dtype=np.float64)
    trace = float(np.trace(m))
    if trace > 0.0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s)
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * math.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        v = [0.0, 0.0, 0.0]
        v[i] = 0.25 * s
        v[j] = (m[j, i] + m[i, j]) / s
        v[k] = (m[k, i] + m[i, k]) / s
        q = (v[0], v[1], v[2], (m[k, j] - m[j, k]) / s)
    norm = math.sqrt(sum(c * c for c in q))
    return (q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm)


def matrix_from_quaternion(x: float, y: float, z: float, w: float) -> npt.NDArray[np.float64]:
    """The rotation matrix of a unit quaternion (x, y, z, w)."""
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=np.float64,
    )


def scan_tf_rotation(pitch_rad: float) -> tuple[float, float, float, float]:
    """The rotation of the transform optical frame (parent) -> scan frame (child), as a quaternion.

    A TF transform parent -> child holds the child's pose in the parent: ``p_parent = R p_child``, so R is
    the inverse (transpose) of :func:`scan_from_optical`.
    """
    return quaternion_from_matrix(scan_from_optical(pitch_rad).T)


def quaternion_from_yaw(yaw_rad: float) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation by ``yaw_rad`` about z (a planar robot's orientation in odometry)."""
    return (0.0, 0.0, math.sin(yaw_rad / 2.0), math.cos(yaw_rad / 2.0))


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """The yaw (rotation about z) of a quaternion, as a robot's odometry gives it.

    The simulator's in-process run passes its exact yaw through :func:`quaternion_from_yaw` and this, the way
    the live node receives it in ``nav_msgs/Odometry``: the two transports then see the same doubles (the
    closed loop is sensitive to a last-bit difference over a long run).
    """
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
