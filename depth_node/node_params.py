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
SPIN_WAKE_S = 0.1  # the spin loop's longest wait: how soon a Ctrl-C is noticed


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
    when = "settable at run time" if info.dynamic else "read-only: wired at start-up, restart the node to change it"
    descriptor = ParameterDescriptor(
        name=info.name,
        type=array_types[kind] if info.kind is tuple else types[kind],
        description=info.description + (f" (one of {list(info.choices)})" if info.choices else "") + f" [{when}]",
        read_only=not info.dynamic,  # the dataclass field's flag (depth_node.params.param(dynamic=...))
    )
    if info.nan_unset:
        return descriptor  # rclpy would refuse NaN (unset) by the range; our own check keeps the bounds
    lo, hi = info.min_value, info.max_value
    if info.kind in (int, float) and lo is not None and hi is not None:
        # Both bounds: a range rclpy checks itself and rqt_reconfigure draws as a slider.
        if info.kind is int:
            descriptor.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
        else:
            descriptor.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)]
    elif info.kind in (int, float) and (lo is not None or hi is not None):
        # One bound: a ROS range needs both, and a made-up one (1e300) would make a useless slider; say it in
        # words, and depth_node.live_params refuses a value beyond it with the dataclass's own message.
        descriptor.additional_constraints = f"minimum {lo}" if lo is not None else f"maximum {hi}"
    return descriptor


def _array_type(info: params_mod.ParamInfo) -> Any:
    from rclpy.parameter import Parameter

    return {
        bool: Parameter.Type.BOOL_ARRAY,
        int: Parameter.Type.INTEGER_ARRAY,
        float: Parameter.Type.DOUBLE_ARRAY,
        str: Parameter.Type.STRING_ARRAY,
    }[info.item_kind or str]


def _check_overrides(node: Any, infos: dict[str, params_mod.ParamInfo]) -> None:
    """The values given for ``cls``'s parameters (params file, ``-p``), checked by our own rules.

    rclpy keeps the node's overrides in ``_parameter_overrides`` (name -> Parameter) until they are
    declared; reading them first is what lets a wrong value be refused in one line instead of by rclpy's
    range or type check. Names that belong to rclpy itself (``use_sim_time``...) are not ours to check.
    """
    raw = getattr(node, "_parameter_overrides", {}) or {}
    for name, parameter in raw.items():
        info = infos.get(name)
        if info is None:
            continue
        value = parameter.value
        params_mod.coerce(info, list(value) if info.kind is tuple and value is not None else value)


def declare_and_read(node: Any, cls: type[T], on_change: Callable[[T], None] | None = None) -> T:
    """Declare every parameter of ``cls`` on ``node`` (once) and return the validated values.

    The parameters the dataclass marks ``dynamic`` stay settable while the node runs: a set is validated by
    the dataclass's own rules (refused with the reason otherwise) and the new dataclass goes to
    ``on_change`` (:mod:`depth_node.live_params`). The others are declared read-only. Called again on the
    same node (a managed node configured a second time), it only reads the current values back.

    Raises:
        depth_node.errors.ParameterError: a value that the dataclass refuses, naming the parameter.
    """
    from depth_node import live_params

    live = live_params.live_parameters(node, cls)
    if live is None:
        infos = {info.name: info for info in params_mod.describe(cls)}
        _declare(node, cls, infos)
        live = live_params.register(node, cls, infos)
    live.on_change = on_change
    return live.read()


def _rename_overrides(node: Any, cls: type) -> None:
    """A value given under an old name (the dataclass's ``RENAMED``) becomes the new name's override, said once.

    rclpy keeps an override of an undeclared name aside; moving it under the new name before declaring makes
    ``-p stamped:=true`` (or a params file from before the rename) set ``cmd_vel_stamped``, and wins over the
    new name's value in the shipped params file, as the CLI's loader does.
    """
    from rclpy.parameter import Parameter

    raw = getattr(node, "_parameter_overrides", None)
    if not raw:
        return
    for old, new in params_mod.renamed(cls, raw).items():
        node.get_logger().warning(params_mod.renamed_notice(old, new))
        raw[new] = Parameter(new, value=raw[old].value)


def _declare(node: Any, cls: type, infos: dict[str, params_mod.ParamInfo]) -> None:
    from rclpy.exceptions import ParameterException

    _rename_overrides(node, cls)
    _check_overrides(node, infos)  # raises ParameterError before rclpy's own checks can
    for info in infos.values():
        try:
            if info.kind is tuple and len(info.default) == 0:
                # An empty list has no element type for rclpy: declare the type; an override gives the value.
                node.declare_parameter(info.name, _array_type(info), _descriptor(info))
            else:
                default = list(info.default) if info.kind is tuple else info.default
                node.declare_parameter(info.name, default, _descriptor(info))
        except ParameterException as exc:  # what our own check above did not foresee
            raise ParameterError(f"parameter '{info.name}': {exc}") from exc


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
    """Init rclpy, build the node with ``factory`` and spin it until SIGINT/SIGTERM; shared by every node.

    A :class:`depth_node.errors.DepthNodeError` while building (a refused parameter, a missing model) is
    logged as fatal with its message and ends the process with exit code 2 instead of a traceback. Ctrl-C
    (once, or again during shutdown, as ``ros2 launch`` sends it) ends it quietly with exit code 0.

    The stop is ordered: rclpy's own signal handlers are not installed, because they shut the context down
    from the signal, at once, while a timer callback or an inference thread may still be publishing (an
    ``RCLError`` from the diagnostics publisher was seen that way). Here the signal only asks the spin loop
    to end; then the node is destroyed (its worker finishes the frame in progress first) while the context
    is still valid, and only then is rclpy shut down.
    """
    require_rclpy(name)
    import threading

    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
    from rclpy.logging import get_logger
    from rclpy.signals import SignalHandlerOptions

    from depth_node.errors import DepthNodeError

    stop = threading.Event()

    def request_stop(_signum: int, _frame: Any) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    node = None
    executor = None
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
        node = factory()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=SPIN_WAKE_S)  # wakes up to see a stop request
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except DepthNodeError as exc:
        get_logger(name).fatal(str(exc))
        raise SystemExit(2) from None
    finally:
        # A second SIGINT while the node's handles go away (ros2 launch sends more) must not turn a clean stop
        # into a KeyboardInterrupt; rclpy.shutdown may restore Python's own handler, so ignore it after too.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if executor is not None:
            executor.shutdown(timeout_sec=1.0)
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_node(name: str, module: str, cls: str, args: list[str] | None = None) -> None:
    """Console-script entry: import the node module only after rclpy is known to be importable."""
    require_rclpy(name)
    import contextlib
    import importlib

    with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C that arrived before rclpy installed its handler
        spin_node(name, getattr(importlib.import_module(module), cls), args)
