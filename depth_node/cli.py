"""``depth-node``: the command-line tool (predict, detect, replay, bench, train, export, eval, ...).

Each sub-command lives in its own module under :mod:`depth_node.commands` with two functions,
``add_arguments(parser)`` and ``run(args) -> int``; this file only wires them up. Command modules keep
heavy imports (onnxruntime, torch, rosbags) inside ``run`` so that ``--help`` stays instant.

Errors of this package (:class:`depth_node.errors.DepthNodeError`) end the command with exit code 2
and one line on stderr, no traceback: they are the user's input, not a bug. Exit codes: 0 done, 2 refused
input, 3 a replay that could not process a single frame, 130 interrupted, 141 stdout closed early (``| head``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence

from depth_node.errors import DepthNodeError

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader closed the pipe

# name -> (module, one-line help). Order is the order of `depth-node --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "predict": ("depth_node.commands.predict", "depth of image files (PNG, JPEG...), .npy arrays, directories"),
    "replay": ("depth_node.commands.replay", "run the depth core on a recorded ROS 2 bag"),
    "evaluate": ("depth_node.commands.evaluate", "many bags against several models: one leaderboard"),
    "detect": ("depth_node.commands.detect", "objects in image files with a YOLO-family ONNX detector"),
    "bench": ("depth_node.commands.bench", "per-stage timings at 640x480"),
    "train": ("depth_node.commands.train", "train a depth network from a YAML config"),
    "export": ("depth_node.commands.export", "export a checkpoint to ONNX with its model spec"),
    "export-hf": (
        "depth_node.commands.export_hf",
        "export a transformers depth checkpoint to ONNX with its model spec",
    ),
    "eval": ("depth_node.commands.eval", "depth metrics of a model on a synthetic split"),
    "sim": ("depth_node.commands.sim", "closed-loop simulation: robot, depth model, obstacle_avoidance"),
    "serve": ("depth_node.commands.serve", "local web page: depth of your images, side by side, scored"),
    "compare": ("depth_node.commands.compare", "train every architecture on one budget, write one table"),
}


def _available() -> dict[str, tuple[str, str]]:
    """The commands whose module exists (a command still being written is simply absent)."""
    found = {}
    for name, (module, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = (module, help_text)
    return found


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and for generating the README's CLI section)."""
    parser = argparse.ArgumentParser(prog="depth-node", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in _available().items():
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except DepthNodeError as exc:
        print(f"depth-node {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"depth-node {args.command}: interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depth-node`` console script.

    A reader that goes away early (``depth-node ... | head``) is not an error of the command: the rest of
    stdout goes to /dev/null (so the interpreter's own flush at exit stays quiet too) and the exit status
    is the shell's for SIGPIPE, 141, without a traceback.
    """
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # inside the try: a closed pipe shows up here, not at interpreter exit
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
