"""Declaring a parameter dataclass on an rclpy node, reading it back, and running a node (rclpy lazily).

Shared by every node of the package: each ROS parameter is declared from :func:`depth_node.params.describe`
(name, default, description, range, read-only), and the values the node ends up with (defaults, YAML,
command-line overrides) are validated by the same :func:`depth_node.params.from_mapping` as the CLI's.

The overrides are validated by us *before* they are declared: rclpy checks a declared range and type itself
and raises its own exception with a traceback, where a user who typed ``-p decimation:=0`` should get one
line naming the parameter and exit code 2.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from depth_node import params as params_mod
from depth_node.errors import ParameterError

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


def _array_type(info: params_mod.ParamInfo) -> Any:
    from rclpy.parameter import Parameter

    return {
        bool: Parameter.Type.BOOL_ARRAY,
        int: Parameter.Type.INTEGER_ARRAY,
        float: Parameter.Type.DOUBLE_ARRAY,
        str: Parameter.Type.STRING_ARRAY,
    }[info.item_kind or str]


def _check_overrides(node: Any, cls: type, infos: dict[str, params_mod.ParamInfo]) -> None:
    """The values given for ``cls``'s parameters (params file, ``-p``), checked by our own rules.

    rclpy keeps the node's overrides in ``_parameter_overrides`` (name -> Parameter) until they are
    declared; reading them first is what lets a wrong value be refused in one line instead of by rclpy's
    range or type check. Names that belong to rclpy itself (``use_sim_time``...) are not ours to check.
    """
    raw = getattr(node, "_parameter_overrides", {}) or {}
    for name, parameter in raw.items():
        info = infos.get(params_mod.renamed(cls, [name]).get(name, name))
        if info is None:
            continue
        value = parameter.value
        params_mod.coerce(info, list(value) if info.kind is tuple and value is not None else value)


def declare_and_read(node: Any, cls: type[T]) -> T:
    """Declare every parameter of ``cls`` on ``node`` and return the validated values.

    Raises:
        depth_node.errors.ParameterError: a value that the dataclass refuses, naming the parameter.
    """
    from rclpy.exceptions import ParameterException, ParameterUninitializedException

    infos = {info.name: info for info in params_mod.describe(cls)}
    _check_overrides(node, cls, infos)  # raises ParameterError before rclpy's own checks can
    values: dict[str, Any] = {}
    for info in infos.values():
        try:
            if info.kind is tuple and len(info.default) == 0:
                # An empty list has no element type for rclpy: declare the type; an override gives the value.
                node.declare_parameter(info.name, _array_type(info), _descriptor(info))
            else:
                default = list(info.default) if info.kind is tuple else info.default
                node.declare_parameter(info.name, default, _descriptor(info))
            value = node.get_parameter(info.name).value
        except ParameterUninitializedException:
            continue  # declared without a value and none given: the dataclass default applies
        except ParameterException as exc:  # what our own check above did not foresee
            raise ParameterError(f"parameter '{info.name}': {exc}") from exc
        if value is not None:
            values[info.name] = list(value) if info.kind is tuple else value
    # A value given under an old name (RENAMED) is not declared, so rclpy keeps it aside: read it from there.
    raw = getattr(node, "_parameter_overrides", {}) or {}
    for old, new_name in params_mod.renamed(cls, raw).items():
        node.get_logger().warning(params_mod.renamed_notice(old, new_name))
        values[new_name] = raw[old].value
    return params_mod.from_mapping(cls, values, source=f"node '{node.get_name()}' parameters")


def require_rclpy(executable: str) -> None:
    """Exit with one line (code 2) when no ROS 2 Python runtime can be imported, instead of a traceback."""
    try:
        import rclpy  # noqa: F401
    except ImportError as exc:
        print(
            f"{executable}: no ROS 2 Python runtime ({exc}). Source a ROS 2 install (source /opt/ros/jazzy/setup.bash)"
            ' or install the wheels: pip install "depth_node[ros]" (see the README, section ROS 2).',
            file=sys.stderr,
        )
        raise SystemExit(2) from None


def spin_node(name: str, factory: Callable[[], Any], args: list[str] | None = None) -> None:
    """Init rclpy, build the node with ``factory`` and spin it until shutdown; shared by every node.

    A :class:`depth_node.errors.DepthNodeError` while building (a refused parameter, a missing model) is
    logged as fatal with its message and ends the process with exit code 2 instead of a traceback. Ctrl-C
    (once, or again during shutdown, as ``ros2 launch`` sends it) ends it quietly with exit code 0.
    """
    require_rclpy(name)
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.logging import get_logger

    from depth_node.errors import DepthNodeError

    node = None
    try:
        rclpy.init(args=args)
        node = factory()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except DepthNodeError as exc:
        get_logger(name).fatal(str(exc))
        raise SystemExit(2) from None
    finally:
        # A second SIGINT while the node's handles go away must not turn a clean stop into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


def run_node(name: str, module: str, cls: str, args: list[str] | None = None) -> None:
    """Console-script entry: import the node module only after rclpy is known to be importable."""
    require_rclpy(name)
    import contextlib
    import importlib

    with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C that arrived before rclpy installed its handler
        spin_node(name, getattr(importlib.import_module(module), cls), args)
