"""Output files of the commands, written atomically: a temporary name in the same directory, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write(path: Path, write: Any) -> None:
    """Write through ``write(tmp_path)`` then rename, so a half-written file never has the final name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_png(path: Path, image: Any) -> None:
    """Write an image with OpenCV (format from the suffix), raising OSError when it cannot."""
    import cv2

    if not cv2.imwrite(str(path), image):
        raise OSError(f"OpenCV could not write '{path}'")
