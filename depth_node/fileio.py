"""Atomic output files: a temporary name in the target's directory, renamed into place when complete.

A reader (or a crash) never sees half a file under its final name. ``tempfile.mkstemp`` creates the
temporary file private (0600); an output file is for reading, so it gets the mode ``open()`` would have
given it (0666 less the umask, 0644 usually) before the rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def umask() -> int:
    """The process umask. It can only be read by setting it; it is set straight back (the usual idiom)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a newly created file gets from ``open()``: 0o666 less the umask (0o644 usually)."""
    return 0o666 & ~umask()


def atomic_write_with(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then give it the usual mode and rename it.

    The temporary name keeps ``path``'s suffix, for writers that choose a format by suffix (OpenCV).
    On any failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write_with`)."""
    atomic_write_with(Path(path), lambda tmp: tmp.write_bytes(data))


@contextlib.contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """A fresh, empty directory that becomes ``target`` only when the ``with`` block completes.

    What was at ``target`` is replaced whole, so no file of an earlier run survives beside the new ones;
    on failure the staging directory is removed and ``target`` is untouched. The caller decides whether
    replacing an existing ``target`` is allowed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it private
        if target.exists() or target.is_symlink():
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, trash / "old")
            os.replace(staging, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
