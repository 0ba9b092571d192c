"""``depth-node train --config FILE``: train a depth network (see depth_node/training)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the train command."""
    parser.add_argument("--config", required=True, help="training YAML (e.g. config/train_synthetic.yaml)")
    parser.add_argument("--resume", default=None, help="continue from this checkpoint (its last.pt)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key, dotted name, YAML value (repeatable), e.g. --set optim.epochs=3",
    )


def _overrides(items: list[str]) -> dict[str, Any]:
    from depth_node.errors import ParameterError

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def run(args: argparse.Namespace) -> int:
    """Train; with torchrun, every process runs this same command."""
    # torch is imported here, not at module level, so that `depth-node --help` stays instant.
    from depth_node.training.config import load_config
    from depth_node.training.train import train

    config = load_config(args.config, _overrides(args.set))
    result = train(config, resume=args.resume)
    if result["rank"] == 0:  # one summary line, not one per process interleaved on a shared stdout
        print(json.dumps(result))
    return 0
