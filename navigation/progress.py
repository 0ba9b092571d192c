"""When the window's plan steers: the robot's progress toward the goal, watched over time."""

from __future__ import annotations


class ProgressWatch:
    """Whether the robot has stopped getting nearer the goal, and then whether it has got past that point.

    The gap follower is the better driver while it makes progress (it reacts to the current frame only, so
    a noisy depth frame costs nothing later); the window's plan takes over when the best progress so far is
    ``after_s`` old, and hands back once the robot is ``release_m`` beyond where it got stuck.
    """

    def __init__(self, after_s: float, gain_m: float = 0.3, release_m: float = 0.5) -> None:
        """Args: after_s: seconds without ``gain_m`` of new progress that count as stuck (0: always engaged)."""
        self.after_s, self.gain_m, self.release_m = after_s, gain_m, release_m
        self._best: float | None = None
        self._best_stamp = 0.0
        self._engaged_at: float | None = None  # progress when the plan took over

    @property
    def engaged(self) -> bool:
        """Whether the plan is steering."""
        return self.after_s <= 0.0 or self._engaged_at is not None

    def update(self, stamp_s: float, progress_m: float) -> bool:
        """Take the progress toward the goal (larger is nearer, any offset) at ``stamp_s``; returns :attr:`engaged`."""
        if self._best is None or progress_m > self._best + self.gain_m:
            self._best, self._best_stamp = progress_m, stamp_s
        if self._engaged_at is not None and progress_m > self._engaged_at + self.release_m:
            self._engaged_at = None
            self._best, self._best_stamp = progress_m, stamp_s
        elif self._engaged_at is None and stamp_s - self._best_stamp > self.after_s:
            self._engaged_at = self._best
        return self.engaged
