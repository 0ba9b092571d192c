"""Live tuning of a running node: the parameters its dataclass marks ``dynamic`` change without a restart.

``ros2 param set`` and rqt_reconfigure call the node's ``set_parameters`` service. rclpy refuses a read-only
parameter, a wrong type and a value outside the declared range on its own (the descriptor comes from the
same dataclass field); what it cannot see is a rule across fields (``stop_distance_m`` must not exceed
``slow_distance_m``). So a set is checked by building the whole dataclass from the current values with the
new ones in (:func:`depth_node.params.from_mapping`, the rules the CLI and the YAML files go through), and
refused with that message as the reason. Once rclpy has stored an accepted set, the node is handed the new
dataclass (``on_change``) and applies it to its core: one mechanism for every node, no per-node list.

rclpy is imported lazily, as everywhere outside the node modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from depth_node import params as params_mod
from depth_node.errors import ParameterError

T = TypeVar("T")


class LiveParameters(Generic[T]):
    """The declared parameters of one dataclass on one node, kept valid while they change."""

    def __init__(self, node: Any, cls: type[T], infos: Mapping[str, params_mod.ParamInfo]) -> None:
        """Register the checks on ``node``; the parameters must already be declared (declaration is not a set).

        Args:
            node: The rclpy node (or lifecycle node) that declared ``infos``.
            cls: The parameter dataclass.
            infos: Its flat parameters by name (:func:`depth_node.params.describe`).
        """
        self._node = node
        self._cls = cls
        self._infos = dict(infos)
        self.on_change: Callable[[T], None] | None = None
        node.add_on_set_parameters_callback(self._check)
        node.add_post_set_parameters_callback(self._changed)

    def values(self) -> dict[str, Any]:
        """The node's current values of this dataclass's parameters (those that have one)."""
        from rclpy.exceptions import ParameterUninitializedException

        out: dict[str, Any] = {}
        for name, info in self._infos.items():
            try:
                value = self._node.get_parameter(name).value
            except ParameterUninitializedException:
                continue  # an empty list declared by type only: the dataclass default applies
            if value is not None:
                out[name] = list(value) if info.kind is tuple else value
        return out

    def read(self) -> T:
        """The current values as the validated dataclass.

        Raises:
            depth_node.errors.ParameterError: naming the parameter the dataclass refuses.
        """
        return params_mod.from_mapping(self._cls, self.values(), source=f"node '{self._node.get_name()}' parameters")

    def _merged(self, parameters: list[Any]) -> T | None:
        """The dataclass with ``parameters`` applied, or None when none of them is ours."""
        changed = {p.name: p.value for p in parameters if p.name in self._infos}
        if not changed:
            return None
        values = self.values()
        for name, value in changed.items():
            info = self._infos[name]
            if not info.dynamic:  # rclpy's read-only check normally answers first; this one names why
                raise ParameterError(
                    f"parameter '{name}' is read-only: it is wired at start-up, restart the node to change it"
                )
            values[name] = list(value) if info.kind is tuple and value is not None else value
        return params_mod.from_mapping(self._cls, values, source=f"node '{self._node.get_name()}' parameters")

    def _check(self, parameters: list[Any]) -> Any:
        from rcl_interfaces.msg import SetParametersResult

        try:
            self._merged(parameters)
        except ParameterError as exc:
            self._node.get_logger().warning(f"parameter change refused: {exc}")
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _changed(self, parameters: list[Any]) -> None:
        ours = [p for p in parameters if p.name in self._infos]
        if not ours:
            return
        new = self.read()
        self._node.get_logger().info(
            "parameters changed: " + ", ".join(f"{p.name}={p.value!r}" for p in ours),
        )
        if self.on_change is None:
            return
        try:
            self.on_change(new)
        except Exception as exc:  # the value is stored already: say so, and keep the node (a set must not kill it)
            self._node.get_logger().error(f"parameters stored but not applied ({type(exc).__name__}: {exc})")


def live_parameters(node: Any, cls: type[T]) -> LiveParameters[T] | None:
    """The :class:`LiveParameters` of ``cls`` already on ``node`` (a managed node configured before), if any."""
    registry: dict[type, LiveParameters[Any]] = getattr(node, "_live_parameters", {})
    return registry.get(cls)


def register(node: Any, cls: type[T], infos: Mapping[str, params_mod.ParamInfo]) -> LiveParameters[T]:
    """Start checking and forwarding changes of ``cls``'s (just declared) parameters on ``node``."""
    live = LiveParameters(node, cls, infos)
    registry: dict[type, LiveParameters[Any]] = getattr(node, "_live_parameters", {})
    registry[cls] = live
    node._live_parameters = registry
    return live


def detach(node: Any) -> None:
    """Stop handing changes to the node's objects (a managed node cleaned up: there is nothing to apply them to).

    The values are still checked and stored; the next ``configure`` reads them.
    """
    registry: dict[type, LiveParameters[Any]] = getattr(node, "_live_parameters", {})
    for live in registry.values():
        live.on_change = None
