"""Declaring a parameter dataclass on an rclpy node and reading it back (rclpy imported lazily).

Shared by both nodes: each ROS parameter is declared from :func:`depth_node.params.describe` (name,
default, description, range, read-only), and the values the node ends up with (defaults, YAML,
command-line overrides) are validated by the same :func:`depth_node.params.from_mapping` as the CLI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from depth_node import params as params_mod

T = TypeVar("T")


def _descriptor(info: params_mod.ParamInfo) -> Any:
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType

    types = {
        bool: ParameterType.PARAMETER_BOOL,
        int: ParameterType.PARAMETER_INTEGER,
        float: ParameterType.PARAMETER_DOUBLE,
        str: ParameterType.PARAMETER_STRING,
    }
    array_types = {
        bool: ParameterType.PARAMETER_BOOL_ARRAY,
        int: ParameterType.PARAMETER_INTEGER_ARRAY,
        float: ParameterType.PARAMETER_DOUBLE_ARRAY,
        str: ParameterType.PARAMETER_STRING_ARRAY,
    }
    kind = (info.item_kind or str) if info.kind is tuple else info.kind
    descriptor = ParameterDescriptor(
        name=info.name,
        type=array_types[kind] if info.kind is tuple else types[kind],
        description=info.description + (f" (one of {list(info.choices)})" if info.choices else ""),
        read_only=True,  # read once at start-up; changing them needs a restart
    )
    if info.kind in (int, float) and (info.min_value is not None or info.max_value is not None):
        lo = info.min_value if info.min_value is not None else -1e300
        hi = info.max_value if info.max_value is not None else 1e300
        if info.kind is int:
            descriptor.integer_range = [
                IntegerRange(from_value=int(max(lo, -(2**63))), to_value=int(min(hi, 2**63 - 1)), step=0)
            ]
        else:
            descriptor.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)]
    return descriptor


def declare_and_read(node: Any, cls: type[T]) -> T:
    """Declare every parameter of ``cls`` on ``node`` and return the validated values.

    Raises:
        depth_node.errors.ParameterError: a value that the dataclass refuses, naming the parameter.
    """
    from rclpy.parameter import Parameter

    values: dict[str, Any] = {}
    for info in params_mod.describe(cls):
        default = info.default
        if info.kind is tuple:
            if len(default) == 0:
                # An empty list has no element type for rclpy; declare the type, leave the value unset.
                kind = info.item_kind or str
                array_type = {
                    bool: Parameter.Type.BOOL_ARRAY,
                    int: Parameter.Type.INTEGER_ARRAY,
                    float: Parameter.Type.DOUBLE_ARRAY,
                    str: Parameter.Type.STRING_ARRAY,
                }[kind]
                node.declare_parameter(info.name, array_type, _descriptor(info))
            else:
                node.declare_parameter(info.name, list(default), _descriptor(info))
        else:
            node.declare_parameter(info.name, default, _descriptor(info))
        value = node.get_parameter(info.name).value
        if value is not None:
            values[info.name] = list(value) if info.kind is tuple else value
    return params_mod.from_mapping(cls, values, source=f"node '{node.get_name()}' parameters")


def spin_node(name: str, factory: Callable[[], Any], args: list[str] | None = None) -> None:
    """Init rclpy, build the node with ``factory`` and spin it until shutdown; shared by both nodes.

    A :class:`depth_node.errors.DepthNodeError` while building (a refused parameter, a missing model)
    is logged as fatal with its message and ends the process with exit code 2 instead of a traceback.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.logging import get_logger

    from depth_node.errors import DepthNodeError

    rclpy.init(args=args)
    node = None
    try:
        node = factory()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except DepthNodeError as exc:
        get_logger(name).fatal(str(exc))
        raise SystemExit(2) from exc
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
