"""Parameter dataclasses: one frozen dataclass per component is the single source of truth.

A component declares its parameters as dataclass fields made with :func:`param`, which carries the
description and the allowed range or choices. From that one declaration this module

* builds an instance from a mapping (a YAML file in the ROS ``ros__parameters`` layout, CLI flags, the
  values an rclpy node read back), refusing unknown names, wrong types and out-of-range values with a
  message that names the parameter;
* lists the flat, dotted ROS parameter names with defaults and descriptions (:func:`describe`), so the
  rclpy node declares exactly these parameters;
* marks which parameters may change while a node runs (``param(..., dynamic=True)``: speeds, distances,
  thresholds, gains, goal settings); the rest (model, topics, QoS, frames, rates) are read once at start-up,
  and the node declares them read-only. One flag in the field's metadata, so no node keeps its own list.

Nested dataclasses become dotted names (``model.output_kind``), as ROS 2 flattens nested YAML; a :func:`group`
field nests a dataclass for the code's sake only, its parameters keeping their plain names.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from depth_node.errors import ParameterError

T = TypeVar("T")
LOG = logging.getLogger(__name__)


def param(
    default: Any,
    description: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    choices: Sequence[str] | None = None,
    nan_unset: bool = False,
    dynamic: bool = False,
) -> Any:
    """A dataclass field with the metadata the loader and the ROS declaration need.

    Args:
        default: The default value (a tuple for list parameters, so the dataclass stays hashable).
        description: One sentence for humans: shown by ``ros2 param describe`` and the README.
        min_value: Inclusive lower bound for numbers (for lists: of every element).
        max_value: Inclusive upper bound for numbers (for lists: of every element).
        choices: The allowed values of a string parameter (for lists: of every element).
        nan_unset: A float that NaN leaves unset (its default then, ``.nan`` in YAML): the bounds apply to
            the other values. For a setting whose every number means something (a heading).
        dynamic: Settable while the node runs (``ros2 param set``, rqt_reconfigure), validated by the same
            rules; False (the default) declares it read-only, for what the node wires up once at start-up.
    """
    meta = {"description": description, "min": min_value, "max": max_value, "choices": choices, "dynamic": dynamic}
    if nan_unset:
        meta["nan_unset"] = True
    if isinstance(default, list):
        default = tuple(default)
    return dataclasses.field(default=default, metadata=meta)


INLINE = "inline"  # field metadata: a group whose parameters keep their own (undotted) names


def group(cls: type[T]) -> Any:
    """A dataclass field holding a group of parameters under their own names (no ``group.`` prefix).

    For grouping a component's parameters by the part that reads them while the ROS names, and so every
    user's YAML, stay flat: ``speed: SpeedParams = group(SpeedParams)`` declares ``max_linear_speed``, not
    ``speed.max_linear_speed``.
    """
    return dataclasses.field(default_factory=cls, metadata={INLINE: True})


def _child_prefix(f: dataclasses.Field[Any], name: str, prefix: str) -> str:
    return prefix if f.metadata.get(INLINE) else f"{name}."


@dataclass(frozen=True)
class ParamInfo:
    """One flat (dotted) parameter as ROS sees it."""

    name: str
    default: Any
    description: str
    kind: type  # bool, int, float, str, or tuple for lists
    item_kind: type | None  # element type for tuples
    min_value: float | None
    max_value: float | None
    choices: Sequence[str] | None
    nan_unset: bool = False
    dynamic: bool = False  # settable at run time; False = read-only once the node has started


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _tuple_item(tp: Any) -> type | None:
    args = typing.get_args(tp)
    return args[0] if args else None


def describe(cls: type, prefix: str = "") -> Iterator[ParamInfo]:
    """Yield every flat parameter of a parameter dataclass, nested ones with dotted names."""
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            yield from describe(tp, prefix=_child_prefix(f, name, prefix))  # type: ignore[arg-type]
            continue
        origin = typing.get_origin(tp) or tp
        factory: Any = f.default_factory
        default = f.default if f.default is not dataclasses.MISSING else factory()
        yield ParamInfo(
            name=name,
            default=default,
            description=f.metadata.get("description", ""),
            kind=tuple if origin is tuple else origin,
            item_kind=_tuple_item(tp) if origin is tuple else None,
            min_value=f.metadata.get("min"),
            max_value=f.metadata.get("max"),
            choices=f.metadata.get("choices"),
            nan_unset=bool(f.metadata.get("nan_unset", False)),
            dynamic=bool(f.metadata.get("dynamic", False)),
        )


def _coerce_scalar(name: str, value: Any, kind: type) -> Any:
    """Check one scalar against its declared type; ints are accepted for floats, nothing else converts."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is str and isinstance(value, str):
        return value
    raise ParameterError(f"parameter '{name}': expected {kind.__name__}, got {value!r} ({type(value).__name__})")


def _check_range(info: ParamInfo, value: Any) -> None:
    if info.choices is not None and value not in info.choices:
        raise ParameterError(f"parameter '{info.name}': {value!r} is not one of {list(info.choices)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(f"parameter '{info.name}': {value!r} is not a finite number")
        if info.min_value is not None and value < info.min_value:
            raise ParameterError(f"parameter '{info.name}': {value!r} is below the minimum {info.min_value}")
        if info.max_value is not None and value > info.max_value:
            raise ParameterError(f"parameter '{info.name}': {value!r} is above the maximum {info.max_value}")


def coerce(info: ParamInfo, value: Any) -> Any:
    """Validate one value for one parameter and return it in its canonical Python type."""
    if info.kind is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ParameterError(f"parameter '{info.name}': expected a list, got {value!r}")
        item_kind = info.item_kind or str
        items = tuple(_coerce_scalar(info.name, v, item_kind) for v in value)
        for item in items:
            _check_range(info, item)
        return items
    scalar = _coerce_scalar(info.name, value, info.kind)
    if info.nan_unset and isinstance(scalar, float) and math.isnan(scalar):
        return math.nan  # one NaN object, so that parameter sets compare equal (NaN != NaN otherwise)
    _check_range(info, scalar)
    return scalar


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into dotted keys, as ROS 2 does with nested YAML parameters."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def _unknown_message(unknown: Sequence[str], known: Iterable[str]) -> str:
    """ "unknown parameter 'x' (did you mean 'y'?)" for each typo: the nearest name, not all 40 of them."""
    import difflib

    names = sorted(known)
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if not close:  # a nested key's last part alone ('model.widht' -> 'model.input_width')
            leaf = name.rsplit(".", 1)[-1]
            by_leaf = {n.rsplit(".", 1)[-1]: n for n in names}
            close = [by_leaf[m] for m in difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.6)]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        parts.append(f"'{name}'{hint}")
    return f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(parts)}"


def renamed(cls: type, names: Iterable[str]) -> dict[str, str]:
    """The old names among ``names`` that ``cls`` renamed (its ``RENAMED`` class attribute), old -> new."""
    table: Mapping[str, str] = getattr(cls, "RENAMED", {})
    return {old: table[old] for old in names if old in table}


def apply_renamed(cls: type, flat: Mapping[str, Any]) -> dict[str, Any]:
    """``flat`` with the values given under an old name moved to the new one, each said in the log.

    An old name given explicitly wins over the new one: the shipped params files carry every new name with
    its default, so ``-p stamped:=true`` on top of them must still mean what it always meant.
    """
    out = dict(flat)
    for old, new in renamed(cls, flat).items():
        LOG.warning(renamed_notice(old, new))
        out[new] = out.pop(old)
    return out


def renamed_notice(old: str, new: str) -> str:
    """The one line that says an old parameter name was used."""
    return f"parameter '{old}' was renamed to '{new}'; the old name still works (and wins over '{new}'): use '{new}'"


def from_mapping(cls: type[T], values: Mapping[str, Any], *, source: str = "parameters") -> T:
    """Build a parameter dataclass from (possibly nested) values; defaults fill what is absent.

    A parameter given under an old name of the class's ``RENAMED`` table counts as its new name.

    Raises:
        ParameterError: naming the parameter, for unknown names, wrong types and out-of-range values.
    """
    flat = apply_renamed(cls, flatten(values))
    infos = {info.name: info for info in describe(cls)}
    unknown = sorted(set(flat) - set(infos))
    if unknown:
        raise ParameterError(f"{source}: {_unknown_message(unknown, infos)}")
    checked = {name: coerce(infos[name], value) for name, value in flat.items()}
    return _build(cls, checked, prefix="")


def _build(cls: type[T], flat: Mapping[str, Any], prefix: str) -> T:
    hints = _field_types(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        tp = hints[f.name]
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            kwargs[f.name] = _build(tp, flat, prefix=_child_prefix(f, name, prefix))  # type: ignore[arg-type]
        elif name in flat:
            kwargs[f.name] = flat[name]
    return cls(**kwargs)


def to_flat_dict(obj: Any, prefix: str = "") -> dict[str, Any]:
    """The dotted-name view of a parameter dataclass instance (tuples stay tuples)."""
    flat: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            flat.update(to_flat_dict(value, prefix=_child_prefix(f, name, prefix)))
        else:
            flat[name] = value
    return flat


def read_ros_params(path: str | Path, node_name: str) -> dict[str, Any]:
    """Read the ``ros__parameters`` of one node from a ROS 2 parameter YAML file.

    Accepts the node's plain name, a namespaced name ending in it (``/robot/depth_node``) and the
    ``/**`` wildcard; a node's own section wins over the wildcard. A file without either is an error,
    so that a typo in the node name does not silently run with defaults.
    """
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"params file '{p}': cannot be read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"params file '{p}': not valid YAML ({exc})") from exc
    if not isinstance(doc, Mapping):
        raise ParameterError(f"params file '{p}': expected a mapping of node names at the top level")
    merged: dict[str, Any] = {}
    found = False
    for key in ("/**", "**"):
        section = doc.get(key)
        if isinstance(section, Mapping) and isinstance(section.get("ros__parameters"), Mapping):
            merged.update(flatten(section["ros__parameters"]))
            found = True
    for key, section in doc.items():
        if key in ("/**", "**") or not isinstance(section, Mapping):
            continue
        if str(key).strip("/").split("/")[-1] == node_name and isinstance(section.get("ros__parameters"), Mapping):
            merged.update(flatten(section["ros__parameters"]))
            found = True
    if not found:
        raise ParameterError(f"params file '{p}': no '{node_name}: ros__parameters:' section")
    return merged


def load(cls: type[T], path: str | Path | None, node_name: str, overrides: Mapping[str, Any] | None = None) -> T:
    """Parameters of one node: defaults, then the YAML file (if any), then explicit overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(read_ros_params(path, node_name))
    if overrides:
        values.update(flatten(overrides))
    return from_mapping(cls, values, source=str(path) if path is not None else "parameters")
