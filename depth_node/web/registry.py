"""The models a server offers: the shipped one, every ONNX file of a directory and the ones named.

Each model's spec comes from the file's metadata, overridden by a sidecar parameter YAML next to it
(``NAME.yaml``, the ``depth_node: ros__parameters:`` layout of ``--params``, whose ``model:`` keys
describe a plain export). Estimators are built once at start-up (a broken file is reported then, not at
the first click) and each carries a lock: an ONNX Runtime session may be run from several threads, but a
torch module or a user's exotic provider need not be, and the server's worker threads must not find out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from depth_node import params as params_mod
from depth_node.camera import CameraModel
from depth_node.depth_params import NODE_NAME, DepthNodeParams
from depth_node.errors import ModelError
from depth_node.estimator import DEFAULT_PROVIDERS, DepthEstimator, default_model_path, load_estimator
from depth_node.model_spec import OutputKind

LOG = logging.getLogger(__name__)
MODEL_SUFFIXES = (".onnx",)


@dataclass
class ServedModel:
    """One model of the server: its public name, its estimator and the lock that serialises its runs."""

    name: str
    path: Path
    estimator: DepthEstimator
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def relative(self) -> bool:
        """True when the output is depth only up to scale (scored after median scaling)."""
        return self.estimator.spec.output_kind not in (OutputKind.METRIC_DEPTH, OutputKind.METRIC_INVERSE_DEPTH)

    def describe(self) -> dict[str, Any]:
        """The entry of ``GET /api/models``: name, kind, input_width, input_height (0 = follows the image)."""
        spec = self.estimator.spec
        return {
            "name": self.name,
            "kind": spec.output_kind.value,
            "input_width": int(spec.input_width),
            "input_height": int(spec.input_height),
        }

    def predict(self, rgb: npt.NDArray[np.uint8], camera: CameraModel) -> tuple[npt.NDArray[np.float32], float]:
        """The estimator's depth, one request at a time per model, and the milliseconds the model took.

        The time starts once the lock is held: waiting for another tab's request is not the model's time.
        """
        with self.lock:
            start = time.perf_counter()
            depth = self.estimator.predict(rgb, camera)
            return depth, (time.perf_counter() - start) * 1000.0


def sidecar_path(model_path: Path) -> Path | None:
    """``NAME.yaml`` (or ``.yml``) next to ``NAME.onnx``, when there is one."""
    for suffix in (".yaml", ".yml"):
        candidate = model_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def load_served_model(path: Path, providers: Sequence[str] = DEFAULT_PROVIDERS) -> ServedModel:
    """Build one model with its spec from metadata and sidecar YAML.

    Raises:
        ModelError, ParameterError: the file or its sidecar cannot be used (the message names which).
    """
    sidecar = sidecar_path(path)
    node_params = params_mod.load(DepthNodeParams, sidecar, NODE_NAME) if sidecar else DepthNodeParams()
    estimator = load_estimator(
        path,
        spec_overrides=node_params.model.as_spec_overrides(),
        providers=providers,
        threads=node_params.threads,
        provider_options=node_params.provider_options(),
    )
    return ServedModel(name=path.stem, path=path, estimator=estimator)


def model_files(models_dir: Path | None, named: Iterable[Path], include_default: bool = True) -> list[Path]:
    """The model files to serve, in the order the page lists them: shipped, directory (sorted), named.

    Raises:
        ModelError: a named file or the directory does not exist.
    """
    files: list[Path] = []
    default = default_model_path()
    if include_default and default.is_file():
        files.append(default)
    if models_dir is not None:
        if not models_dir.is_dir():
            raise ModelError(f"models directory '{models_dir}' does not exist")
        files += sorted(p for p in models_dir.iterdir() if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())
    for path in named:
        if not path.is_file():
            raise ModelError(f"model file '{path}' does not exist")
        files.append(path)
    unique: dict[Path, Path] = {}
    for path in files:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def load_models(files: Sequence[Path], providers: Sequence[str] = DEFAULT_PROVIDERS) -> dict[str, ServedModel]:
    """Name -> model for every file. Two files with one name are refused (the page could not tell them apart).

    Raises:
        ModelError: no model at all, a name used twice, or a file that cannot be loaded.
    """
    models: dict[str, ServedModel] = {}
    for path in files:
        model = load_served_model(path, providers)
        if model.name in models:
            raise ModelError(f"two models are named '{model.name}': '{models[model.name].path}' and '{path}'")
        models[model.name] = model
        LOG.info("serving model %s (%s) on %s", model.name, path, model.estimator.provider)
    if not models:
        raise ModelError("no model to serve: the shipped model is not installed; name one with --model")
    return models
