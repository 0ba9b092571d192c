"""Test-side clients of a started node's lifecycle and parameter services, as ``ros2 lifecycle``/``ros2 param`` use."""

from __future__ import annotations

from typing import Any

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import DescribeParameters, GetParameters, SetParameters

from tests.ros.harness import Harness

TRANSITIONS = {
    "configure": Transition.TRANSITION_CONFIGURE,
    "activate": Transition.TRANSITION_ACTIVATE,
    "deactivate": Transition.TRANSITION_DEACTIVATE,
    "cleanup": Transition.TRANSITION_CLEANUP,
    "shutdown": Transition.TRANSITION_UNCONFIGURED_SHUTDOWN,
}


# A query without an answer after this long is asked again (see NodeServices._call), s.
RETRY_S = 10.0


class NodeServices:
    """The services of one started node, called over DDS from the test's own node."""

    def __init__(self, ros: Harness, fqn: str) -> None:
        self.ros = ros
        self.fqn = fqn
        self._clients: dict[str, Any] = {}

    def _call(self, srv_type: Any, name: str, request: Any, timeout: float = 60.0, *, idempotent: bool = False) -> Any:
        """One service call; a query (``idempotent``) is asked again every ``RETRY_S`` until ``timeout``.

        Fast DDS drops a service's response when the server has not yet matched the new client's response reader
        ("failed to send response (timeout)" in the node's log, seen in CI on a get_state right after start-up):
        that answer never comes. A query can be asked again; a transition or a parameter change cannot (it would
        be taken twice), so those are sent once.
        """
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self.ros.node.create_client(srv_type, f"{self.fqn}/{name}")
        assert self.ros.spin_until(client.service_is_ready, 30.0), (
            f"no service {self.fqn}/{name}:\n" + self.ros.started_output()
        )
        attempts = max(1, round(timeout / RETRY_S)) if idempotent else 1
        for _ in range(attempts):
            future = client.call_async(request)
            if self.ros.spin_until(future.done, timeout / attempts):
                return future.result()
        raise AssertionError(f"{name}: no answer\n" + self.ros.started_output())

    def state(self) -> str:
        """The lifecycle state's label (unconfigured, inactive, active, finalized)."""
        return str(self._call(GetState, "get_state", GetState.Request(), idempotent=True).current_state.label)

    def transition(self, name: str) -> bool:
        """Ask for one transition by name; True when the node took it."""
        request = ChangeState.Request(transition=Transition(id=TRANSITIONS[name]))
        return bool(self._call(ChangeState, "change_state", request).success)

    def set(self, name: str, value: Any) -> tuple[bool, str]:
        """``ros2 param set``: (successful, reason)."""
        request = SetParameters.Request(parameters=[Parameter(name=name, value=parameter_value(value))])
        result = self._call(SetParameters, "set_parameters", request).results[0]
        return bool(result.successful), str(result.reason)

    def get(self, name: str) -> Any:
        """``ros2 param get``: the Python value."""
        request = GetParameters.Request(names=[name])
        value = self._call(GetParameters, "get_parameters", request, idempotent=True).values[0]
        fields = {
            ParameterType.PARAMETER_BOOL: "bool_value",
            ParameterType.PARAMETER_INTEGER: "integer_value",
            ParameterType.PARAMETER_DOUBLE: "double_value",
            ParameterType.PARAMETER_STRING: "string_value",
        }
        return getattr(value, fields[value.type])

    def describe(self, name: str) -> Any:
        """``ros2 param describe``: the ParameterDescriptor."""
        return self._call(
            DescribeParameters, "describe_parameters", DescribeParameters.Request(names=[name]), idempotent=True
        ).descriptors[0]


def parameter_value(value: Any) -> ParameterValue:
    """A scalar as rcl_interfaces/ParameterValue (bool before int: a bool is an int in Python)."""
    if isinstance(value, bool):
        return ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=value)
    if isinstance(value, int):
        return ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    if isinstance(value, float):
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    return ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=str(value))
