"""Run independent tasks in this process, in N local processes, or as Ray tasks; results in input order.

One mechanism for every sweep of the tools (``depth-node sim --jobs/--ray``, ``depth-node evaluate``): a task
is a module-level function and one picklable argument; whatever runs it, the results come back as a list in the
order of the inputs, so a report written from them does not depend on how many workers there were or which
finished first. ``on_result(index, result)`` is called in the calling process as each task finishes (in
completion order): the caller can write progress and partial outputs there, so that Ctrl-C leaves what
finished.

* ``jobs == 1`` and no Ray: a plain loop in this process (no start-up cost, the easiest to debug).
* ``jobs > 1``: a ``spawn`` process pool (a fresh interpreter per worker: no forked ONNX Runtime or ROS state,
  the same behaviour on Linux and macOS). Workers ignore SIGINT: on Ctrl-C this process cancels what has
  not started, terminates the workers and raises :class:`KeyboardInterrupt`.
* ``ray``: ``ray.init(address=...)`` (``auto``: the cluster this machine belongs to; an address such as
  ``ray://head:10001``), unless Ray is already initialised in this process (a test's local instance). Each
  task asks for one CPU. Ray is an optional extra (``pip install 'depth_node[ray]'``), imported only here.

A task that raises ends the run: the pending tasks are cancelled and the exception is re-raised here. Tasks
that must survive their own failures (a damaged bag) catch them and return a result saying so.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from depth_node.errors import ParameterError

T = TypeVar("T")
R = TypeVar("R")
OnResult = Callable[[int, Any], None]

_CACHE: dict[Hashable, Any] = {}  # per process: see per_process()


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's total where they differ)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # macOS, Windows
        return max(os.cpu_count() or 1, 1)


def check_jobs(jobs: int) -> int:
    """``jobs`` if it is a worker count (>= 1).

    Raises:
        ParameterError: naming --jobs.
    """
    if jobs < 1:
        raise ParameterError(f"--jobs must be >= 1, got {jobs}")
    return jobs


def threads_per_worker(jobs: int) -> int:
    """Intra-op threads for one of ``jobs`` workers sharing this machine's CPUs (at least one).

    ONNX Runtime's default is one thread per core in every process; N processes each spinning that many
    threads on the same cores slow each other down.
    """
    return max(default_jobs() // max(jobs, 1), 1)


def per_process(key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per process and key: a worker that runs many tasks loads a model once, not per task.

    The only state this module keeps; it lives as long as the worker process (or Ray worker) does.
    """
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def run_tasks(
    fn: Callable[[T], R],
    items: Sequence[T],
    jobs: int = 1,
    ray_address: str | None = None,
    on_result: OnResult | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, run in ``jobs`` processes or as Ray tasks (module docstring).

    Args:
        fn: A module-level function (it is pickled by reference for the workers).
        items: Its arguments, one per task, picklable.
        jobs: Local worker processes (1: in this process). Ignored with ``ray_address``.
        ray_address: Run on Ray: ``auto``, a cluster address, or ``local`` for a Ray instance on this machine.
        on_result: Called here as ``on_result(index, result)`` when a task finishes.

    Returns:
        The results in the order of ``items``.

    Raises:
        KeyboardInterrupt: on Ctrl-C, after the workers were stopped (finished results were delivered).
        ParameterError: a bad ``jobs``, or Ray asked for but not installed.
    """
    check_jobs(jobs)
    done = on_result or (lambda _i, _r: None)
    if ray_address is not None:
        return _run_ray(fn, items, ray_address, done)
    if jobs == 1 or len(items) <= 1:
        results = []
        for i, item in enumerate(items):
            results.append(fn(item))
            done(i, results[-1])
        return results
    return _run_pool(fn, items, min(jobs, len(items)), done)


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it terminates the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_pool(fn: Callable[[T], R], items: Sequence[T], jobs: int, done: OnResult) -> list[R]:
    ctx = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_ignore_sigint)
    results: dict[int, R] = {}
    futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
    clean = False
    try:
        for future in cf.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            done(i, results[i])
        clean = True
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:  # interrupted or a task failed: do not wait for the rest
            workers = list(getattr(pool, "_processes", {}).values())  # no public handle before Python 3.14
            pool.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                if process.is_alive():
                    process.terminate()
            for process in workers:
                process.join(timeout=10)
    return [results[i] for i in range(len(items))]


def _run_ray(fn: Callable[[T], R], items: Sequence[T], address: str, done: OnResult) -> list[R]:
    try:
        import ray
    except ImportError as exc:
        raise ParameterError(f"--ray needs Ray ({exc}): pip install 'depth_node[ray]'") from exc
    if not ray.is_initialized():
        try:
            ray.init(address=address, log_to_driver=False)  # "local": a new instance on this machine
        except (ConnectionError, ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ParameterError(f"--ray {address}: cannot reach a Ray cluster: {first}") from exc
    remote = ray.remote(num_cpus=1)(fn)
    refs = [remote.remote(item) for item in items]
    index = {ref: i for i, ref in enumerate(refs)}
    results: dict[int, R] = {}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                i = index[ref]
                try:
                    results[i] = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    raise exc.as_instanceof_cause() from None
                done(i, results[i])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
    return [results[i] for i in range(len(items))]
