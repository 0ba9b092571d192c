"""Registering message definitions that rosbags does not ship (vision_msgs) in a rosbags typestore.

vision_msgs is not part of rosbags' built-in typestores: :func:`register_msg_dir` registers it from a
directory of ``.msg`` files and :func:`register_from_typestore` copies it from a bag's own typestore
(bags written by rosbag2 carry the definitions of the types they hold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depth_node.msgs.vision import VISION_PACKAGE


def register_msg_dir(typestore: Any, path: str | Path, package: str = VISION_PACKAGE) -> list[str]:
    """Register every ``*.msg`` file of ``path`` as ``<package>/msg/<stem>`` in a rosbags typestore.

    All files are parsed before registering, so definitions that refer to each other resolve whatever
    the file order.

    Returns:
        The registered type names (sorted).

    Raises:
        FileNotFoundError: ``path`` holds no ``.msg`` file.
    """
    from rosbags.typesys import get_types_from_msg

    files = sorted(Path(path).glob("*.msg"))
    if not files:
        raise FileNotFoundError(f"no .msg files in '{path}'")
    types: dict[str, Any] = {}
    for f in files:
        types.update(get_types_from_msg(f.read_text(encoding="utf-8"), f"{package}/msg/{f.stem}"))
    typestore.register(types)
    return sorted(types)


def register_from_typestore(typestore: Any, source: Any, package: str = VISION_PACKAGE) -> list[str]:
    """Copy the types of ``package`` from ``source`` (e.g. an ``AnyReader``'s typestore) into ``typestore``.

    Returns:
        The copied type names; empty when ``source`` does not know the package.
    """
    defs = getattr(source, "fielddefs", {})
    types = {name: defs[name] for name in defs if name.startswith(f"{package}/")}
    if types:
        typestore.register(types)
    return sorted(types)


def has_types(typestore: Any, *names: str) -> bool:
    """Whether a rosbags typestore knows every one of ``names``."""
    return all(name in typestore.fielddefs for name in names)
