"""``depth-node serve``: a local web page to run the models on your own images (see depth_node/web)."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from pathlib import Path

from depth_node.errors import DepthNodeError, ParameterError

LOCAL_HOSTS = ("localhost",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the serve command."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 = any free port)")
    parser.add_argument("--models-dir", type=Path, help="also serve every .onnx file in this directory")
    parser.add_argument(
        "--model", type=Path, action="append", default=[], metavar="M", help="also serve this model file (repeatable)"
    )
    parser.add_argument("--no-default-model", action="store_true", help="do not offer the shipped model")
    parser.add_argument("--providers", help="comma-separated ONNX Runtime providers, e.g. cuda,cpu")
    parser.add_argument("--max-megapixels", type=float, default=25.0, help="larger uploads are refused (default 25)")
    parser.add_argument("--gt-min-depth", type=float, default=0.1, help="nearest scored ground truth, m (default 0.1)")
    parser.add_argument("--gt-max-depth", type=float, default=10.0, help="farthest scored ground truth, m (default 10)")


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that a busy port is one clear line and port 0 has a real number.

    Raises:
        DepthNodeError: the address cannot be bound.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise DepthNodeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def run(args: argparse.Namespace) -> int:
    """Load the models, bind, print the URL, serve until interrupted."""
    try:
        import uvicorn

        from depth_node.web.app import ServerOptions, create_app
    except ImportError as exc:
        raise DepthNodeError(f"depth-node serve needs the web extra: pip install 'depth_node[web]' ({exc})") from exc
    from depth_node.estimator import DEFAULT_PROVIDERS
    from depth_node.web.registry import load_models, model_files

    if not 0 <= args.port <= 65535:
        raise ParameterError(f"--port must be 0..65535, got {args.port}")
    if not args.max_megapixels > 0:
        raise ParameterError(f"--max-megapixels must be > 0, got {args.max_megapixels}")
    if not 0 < args.gt_min_depth < args.gt_max_depth:
        raise ParameterError(f"need 0 < --gt-min-depth < --gt-max-depth, got {args.gt_min_depth}, {args.gt_max_depth}")
    providers = [p.strip() for p in args.providers.split(",") if p.strip()] if args.providers else DEFAULT_PROVIDERS
    files = model_files(args.models_dir, args.model, include_default=not args.no_default_model)
    models = load_models(files, providers)
    options = ServerOptions(args.max_megapixels, args.gt_min_depth, args.gt_max_depth)
    if not is_loopback(args.host):
        print(
            f"depth-node serve: warning: binding {args.host}, not this machine only: anyone who can reach "
            "this port can upload images and run the models here",
            file=sys.stderr,
            flush=True,
        )
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"depth-node serve: http://{shown}:{port}/  models: {', '.join(models)}  (Ctrl+C stops)", flush=True)
    config = uvicorn.Config(create_app(models, options), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
