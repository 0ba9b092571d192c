"""Managed (lifecycle) variants of the package's nodes, for nav2_lifecycle_manager and launch's lifecycle events.

A node class of this package builds everything in ``_build()`` (parameters read, model loaded, publishers,
subscriptions, timers) and stops its threads in ``_teardown()``. :class:`ManagedMixin`, put in front of it
with rclpy's ``LifecycleNode`` behind it, runs the same code on the REP-2006-style transitions instead of in
the constructor:

* constructed (``unconfigured``): only the parameters are declared, so ``ros2 param`` works and a wrong
  value still ends the process at once with one line;
* ``configure``: ``_build()``; every publisher it makes is a lifecycle publisher, every subscription,
  timer and service is remembered; a failure (a missing model) is logged and the node stays unconfigured;
* ``activate``: the publishers are enabled and the callbacks run;
* ``deactivate``: ``_before_deactivate()`` (obstacle_avoidance sends one zero twist so that a base without a
  command timeout stops), then the publishers are disabled and every subscription and timer callback
  returns at once: nothing is computed and nothing is published until the next ``activate``;
* ``cleanup`` / ``shutdown`` / error: ``_teardown()`` and every remembered entity destroyed, so the next
  ``configure`` starts clean (with the parameters' current values).

One mechanism for every node: the node classes themselves know nothing about lifecycles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from rclpy.lifecycle.node import LifecycleNodeMixin

from depth_node import live_params
from depth_node.errors import DepthNodeError
from depth_node.node_params import declare_and_read


class ManagedMixin:
    """Turns a node class of this package into a lifecycle node (``class X(ManagedMixin, Plain, LifecycleNode)``)."""

    PARAMS: Any  # the node's parameter dataclass, declared at construction
    _building = False  # class-level defaults: Node.__init__ creates its own publisher before ours exist
    _active = False

    def _start(self) -> None:
        """Declare (and validate) the parameters only; ``configure`` builds the rest."""
        declare_and_read(self, self.PARAMS)

    def _remember(self, kind: str, entity: Any) -> None:
        self.__dict__.setdefault("_entities", []).append((kind, entity))

    # --- what the node's _build() creates -------------------------------------------------------------

    def create_publisher(self, *args: Any, **kwargs: Any) -> Any:
        """A lifecycle publisher (silent unless active) while configuring; rclpy's own ones unchanged."""
        if not self._building:
            return super().create_publisher(*args, **kwargs)  # type: ignore[misc]
        publisher = self.create_lifecycle_publisher(*args, **kwargs)  # type: ignore[attr-defined]
        self._remember("publisher", publisher)
        return publisher

    def create_subscription(
        self, msg_type: Any, topic: str, callback: Callable[[Any], None], *args: Any, **kw: Any
    ) -> Any:
        """A subscription whose callback does nothing unless the node is active."""

        def gated(msg: Any) -> None:
            if self._active:
                callback(msg)

        sub = super().create_subscription(msg_type, topic, gated, *args, **kw)  # type: ignore[misc]
        self._remember("subscription", sub)
        return sub

    def create_timer(self, period: float, callback: Callable[[], None], *args: Any, **kw: Any) -> Any:
        """A timer whose callback does nothing unless the node is active."""

        def gated() -> None:
            if self._active:
                callback()

        timer = super().create_timer(period, gated, *args, **kw)  # type: ignore[misc]
        self._remember("timer", timer)
        return timer

    def create_service(self, *args: Any, **kwargs: Any) -> Any:
        """A service, remembered so that cleanup removes it (rclpy's own services are made before ours)."""
        service = super().create_service(*args, **kwargs)  # type: ignore[misc]
        if self._building:
            self._remember("service", service)
        return service

    # --- transitions ----------------------------------------------------------------------------------

    def _LifecycleNodeMixin__on_change_state(self, request: Any, response: Any) -> Any:  # noqa: N802
        """rclpy's change_state service, except that a transition the state does not have is refused.

        rclpy (Jazzy) raises out of the service callback there (``activate`` while unconfigured), which ends
        the whole node; rclcpp and ``ros2 lifecycle`` expect ``success: false`` and a node that lives on.
        The state machine refuses before anything changed, so answering False is exact.
        """
        try:
            return LifecycleNodeMixin._LifecycleNodeMixin__on_change_state(self, request, response)  # type: ignore[attr-defined]
        except _rclpy.RCLError as exc:
            self.get_logger().warning(  # type: ignore[attr-defined]
                f"transition {request.transition.id} '{request.transition.label}' refused: {exc}"
            )
            response.success = False
            return response

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Build the node; on a refused parameter or a missing model, log why and stay unconfigured."""
        self._building = True
        try:
            self._build()  # type: ignore[attr-defined]
        except DepthNodeError as exc:
            self.get_logger().error(f"configure failed: {exc}")  # type: ignore[attr-defined]
            self._release()
            return TransitionCallbackReturn.FAILURE
        finally:
            self._building = False
        self.get_logger().info("configured")  # type: ignore[attr-defined]
        return super().on_configure(state)  # type: ignore[misc]

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Enable the publishers, then the callbacks."""
        result = super().on_activate(state)  # type: ignore[misc]
        self._active = True
        self.get_logger().info("active")  # type: ignore[attr-defined]
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Last words (``_before_deactivate``), then silence: callbacks return, publishers drop."""
        self._before_deactivate()
        self._active = False
        result = super().on_deactivate(state)  # type: ignore[misc]
        self.get_logger().info("inactive")  # type: ignore[attr-defined]
        return result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Back to unconfigured: threads stopped, everything ``configure`` made destroyed."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Finalized: as cleanup (from any state), after the last words if it was active."""
        if self._active:
            self._before_deactivate()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """An error in a transition: release everything and go back to unconfigured."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _before_deactivate(self) -> None:
        """What the node says while its publishers are still enabled (override; nothing by default)."""

    def _release(self) -> None:
        self._active = False
        live_params.detach(self)  # a parameter set while unconfigured is stored, and read by the next configure
        self._teardown()  # type: ignore[attr-defined]
        destroy = {
            "publisher": self.destroy_lifecycle_publisher,  # type: ignore[attr-defined]
            "subscription": self.destroy_subscription,  # type: ignore[attr-defined]
            "timer": self.destroy_timer,  # type: ignore[attr-defined]
            "service": self.destroy_service,  # type: ignore[attr-defined]
        }
        entities = self.__dict__.pop("_entities", [])
        for kind, entity in entities:
            destroy[kind](entity)  # an entity already destroyed (a re-created subscription) is a no-op
