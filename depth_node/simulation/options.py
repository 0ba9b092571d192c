"""How a simulated run is set up: the robot's camera, detector and base, and the nodes' parameters for them.

:class:`SimOptions` is shared by every simulator (in-process, :mod:`depth_node.simulation.in_process`; the ROS 2
graph, :mod:`depth_node.simulation.runner_node`); :func:`sim_depth_params` and :func:`sim_nav_params` give the
depth node and obstacle_avoidance the facts of the simulated robot (its camera mount, its size), so both
transports run the nodes with the same parameters. Every run's clock starts at :data:`START_NS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from depth_node.depth_params import DepthNodeParams
from depth_node.evaluation.robot import RobotLimits
from navigation.params import ObstacleAvoidanceParams

START_NS = 1_700_000_000_000_000_000
DEPTH_SOURCES = ("model", "oracle")


@dataclass(frozen=True)
class SimOptions:
    """How the robot and its sensors are simulated.

    Attributes:
        depth: ``"model"`` (the depth network) or ``"oracle"`` (the renderer's exact depth).
        width: Camera image width, pixels.
        height: Camera image height, pixels.
        fx_over_width: Focal length over width (0.8: about 64 degrees, the training camera).
        camera_rate_hz: Frames per second.
        latency_ms: How late a frame reaches the nodes: a frame rendered at t (and stamped t) arrives at t + this,
            with its depth and its detections (rounded to whole control periods), ms.
        camera_height_m: Camera height above the floor (over the robot's centre).
        camera_pitch_rad: Camera pitch, positive looks down.
        det_noise_px: Standard deviation of the noise added to each box edge, pixels.
        det_miss_rate: Probability that a visible object gets no detection in a frame.
        det_score: Score of every detection.
        floor_scale: Let the depth node rescale each frame to the known camera height (see
            :mod:`depth_node.scale`); a robot knows its camera mount, so this is on unless measuring without it.
        limits: The robot base.
    """

    depth: str = "model"
    width: int = 160
    height: int = 120
    fx_over_width: float = 0.8
    camera_rate_hz: float = 10.0
    latency_ms: float = 0.0
    camera_height_m: float = 0.5
    camera_pitch_rad: float = 0.05
    det_noise_px: float = 0.0
    det_miss_rate: float = 0.0
    det_score: float = 0.9
    floor_scale: bool = True
    limits: RobotLimits = field(default_factory=RobotLimits)

    def __post_init__(self) -> None:
        if self.depth not in DEPTH_SOURCES:
            raise ValueError(f"depth source must be one of {', '.join(DEPTH_SOURCES)}, got '{self.depth}'")
        if self.width < 16 or self.height < 16:
            raise ValueError(f"camera must be at least 16x16 pixels, got {self.width}x{self.height}")
        if not 0.0 <= self.det_miss_rate <= 1.0:
            raise ValueError(f"detection miss rate must be in [0, 1], got {self.det_miss_rate}")
        if self.det_noise_px < 0.0 or not self.camera_rate_hz > 0.0:
            raise ValueError("detection noise must be >= 0 and the camera rate > 0")
        if not 0.0 <= self.latency_ms <= 10_000.0:
            raise ValueError(f"latency must be in [0, 10000] ms, got {self.latency_ms}")


def sim_depth_params(base: DepthNodeParams, options: SimOptions) -> DepthNodeParams:
    """The depth node's parameters with the simulated camera mount and the floor-scale choice of ``options``.

    Oracle depth is exact, so it is never rescaled: it stays bit-identical to the ground truth.
    """
    return replace(
        base,
        floor_scale=options.floor_scale and options.depth == "model",
        camera_height_m=options.camera_height_m,
        camera_pitch_rad=options.camera_pitch_rad,
    )


def sim_nav_params(base: ObstacleAvoidanceParams, options: SimOptions) -> ObstacleAvoidanceParams:
    """The controller's parameters with the simulated robot's mount and size (those are facts, not choices)."""
    return base.with_values(
        camera_height_m=options.camera_height_m,
        camera_pitch_rad=options.camera_pitch_rad,
        robot_radius_m=options.limits.radius,
    )
