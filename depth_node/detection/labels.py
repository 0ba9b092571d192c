"""Class names of a detector: a labels file, the model's own metadata, or the class index as text.

vision_msgs carries a class as a string, and obstacle_avoidance matches people and targets by that
string, so the names must be right: a labels file whose length differs from the model's class count
is refused rather than shifting every name by one.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path

from depth_node.errors import DetectorError


def read_labels(path: str | Path) -> list[str]:
    """One class name per line; surrounding blanks and trailing empty lines are ignored.

    Raises:
        DetectorError: the file cannot be read, or has an empty line among the names.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DetectorError(f"labels file '{p}': cannot be read ({exc.strerror or exc})") from exc
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    if "" in names:
        raise DetectorError(f"labels file '{p}': line {names.index('') + 1} is empty (one class name per line)")
    return names


def labels_from_metadata(metadata: Mapping[str, str]) -> list[str] | None:
    """Names stored in ONNX ``metadata_props`` under ``names``, or None when absent or unreadable.

    Ultralytics writes a Python dict literal (``{0: 'person', 1: 'bicycle'}``); a JSON list or a dict
    of index -> name is accepted too. Parsed as a literal, never evaluated.
    """
    text = metadata.get("names")
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, dict):
        try:
            items = sorted((int(k), str(v)) for k, v in value.items())
        except (TypeError, ValueError):
            return None
        if [k for k, _ in items] == list(range(len(items))):
            return [v for _, v in items]
    return None


def resolve_labels(num_classes: int, labels_path: str | Path | None, metadata: Mapping[str, str]) -> list[str]:
    """The names of ``num_classes`` classes: labels file, else metadata, else "0", "1", ...

    Raises:
        DetectorError: the labels file (or the metadata's names) does not have ``num_classes`` names.
    """
    if labels_path:
        names = read_labels(labels_path)
        if len(names) != num_classes:
            raise DetectorError(
                f"labels file '{labels_path}' has {len(names)} names but the model scores {num_classes} classes"
            )
        return names
    names_meta = labels_from_metadata(metadata)
    if names_meta is not None:
        if len(names_meta) != num_classes:
            raise DetectorError(
                f"the model's 'names' metadata has {len(names_meta)} names but it scores {num_classes} classes; "
                "give a labels file"
            )
        return names_meta
    return [str(i) for i in range(num_classes)]
