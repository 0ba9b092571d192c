"""TensorRT / CUDA provider options reach the ONNX Runtime session (engine cache, FP16, device id).

This machine's onnxruntime has the CPU provider only, so the tests make onnxruntime *say* it has TensorRT
and CUDA too, record what the package hands to ``onnxruntime.InferenceSession``, and then open the real
session on the CPU provider (so the estimator still runs a real model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest

from depth_node import params as params_mod
from depth_node.cli import main
from depth_node.depth_params import NODE_NAME, DepthNodeParams
from depth_node.errors import ModelError
from depth_node.estimator import load_estimator
from depth_node.providers import CUDA, TENSORRT, ProviderOptions, default_engine_cache_dir

CPU = "CPUExecutionProvider"


@pytest.fixture
def gpu_ort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """onnxruntime that lists TensorRT and CUDA; every InferenceSession's arguments are recorded."""
    calls: list[dict[str, Any]] = []
    real = onnxruntime.InferenceSession

    def session(path: str, sess_options: Any = None, providers: Any = None, **kwargs: Any) -> Any:
        calls.append({"providers": list(providers), **kwargs})
        return real(path, sess_options=sess_options, providers=[CPU])

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [TENSORRT, CUDA, CPU])
    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return calls


def test_defaults_cache_engines_in_the_users_cache_dir(
    gpu_ort: list[dict[str, Any]], metric_model: Path, tmp_path: Path
) -> None:
    estimator = load_estimator(metric_model)  # the default providers: tensorrt, cuda, cpu
    (call,) = gpu_ort
    assert call["providers"] == [TENSORRT, CUDA, CPU]
    trt, cuda, cpu = call["provider_options"]
    cache = default_engine_cache_dir()
    assert cache == tmp_path / "xdg" / "depth_node" / "tensorrt"
    assert trt == {
        "device_id": 0,
        "trt_fp16_enable": False,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache),
    }
    assert cache.is_dir()  # TensorRT writes its engine there: the directory must exist
    assert cuda == {"device_id": 0} and cpu == {}
    assert estimator.predict(np.zeros((48, 64, 3), np.uint8), _camera()).shape == (48, 64)


def test_yaml_parameters_reach_the_session(gpu_ort: list[dict[str, Any]], metric_model: Path, tmp_path: Path) -> None:
    cache = tmp_path / "engines"
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text(
        "/**/depth_node:\n  ros__parameters:\n"
        f"    model_path: {metric_model}\n    providers: [cuda, cpu]\n"
        f"    trt_engine_cache_dir: {cache}\n    trt_fp16: true\n    cuda_device_id: 1\n"
    )
    params = params_mod.load(DepthNodeParams, yaml_file, NODE_NAME)
    params.build_estimator()
    assert gpu_ort[-1]["providers"] == [CUDA, CPU]
    assert gpu_ort[-1]["provider_options"] == [{"device_id": 1}, {}]
    params_mod.load(DepthNodeParams, yaml_file, NODE_NAME, {"providers": ["tensorrt"]}).build_estimator()
    (trt,) = gpu_ort[-1]["provider_options"]
    assert (trt["device_id"], trt["trt_fp16_enable"], trt["trt_engine_cache_path"]) == (1, True, str(cache))


def test_cli_flags_reach_the_session(gpu_ort: list[dict[str, Any]], metric_model: Path, tmp_path: Path) -> None:
    import cv2

    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.zeros((48, 64, 3), np.uint8))
    cache = tmp_path / "trt"
    argv = ["predict", str(image), "--out", str(tmp_path / "out"), "--model", str(metric_model)]
    assert main([*argv, "--trt-fp16", "--cuda-device", "2", "--trt-cache-dir", str(cache)]) == 0
    trt, cuda, _cpu = gpu_ort[-1]["provider_options"]
    assert (trt["device_id"], trt["trt_fp16_enable"], trt["trt_engine_cache_path"]) == (2, True, str(cache))
    assert cuda == {"device_id": 2}
    assert main([*argv, "--no-trt-cache"]) == 0
    trt = gpu_ort[-1]["provider_options"][0]
    assert trt == {"device_id": 0, "trt_fp16_enable": False}  # no cache: TensorRT builds at every start


def test_cpu_only_sessions_get_no_gpu_options_and_create_nothing(
    monkeypatch: pytest.MonkeyPatch, metric_model: Path, tmp_path: Path
) -> None:
    """The real CPU-only onnxruntime: the default provider list reduces to CPU, no cache directory appears."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    estimator = load_estimator(metric_model)
    assert estimator.provider == CPU
    assert not (tmp_path / "xdg").exists()


def test_an_unusable_cache_dir_is_one_clear_error(
    gpu_ort: list[dict[str, Any]], metric_model: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    options = ProviderOptions(trt_engine_cache_dir=str(blocker / "cache"))
    with pytest.raises(ModelError, match=r"TensorRT engine cache directory '.*file/cache' cannot be created"):
        load_estimator(metric_model, provider_options=options)
    assert not gpu_ort  # refused before a session was opened


def test_parameter_ranges() -> None:
    from depth_node.errors import ParameterError

    with pytest.raises(ParameterError, match="cuda_device_id"):
        params_mod.load(DepthNodeParams, None, NODE_NAME, {"cuda_device_id": -1})
    with pytest.raises(ParameterError, match="trt_fp16"):
        params_mod.load(DepthNodeParams, None, NODE_NAME, {"trt_fp16": "yes"})


def _camera() -> Any:
    from depth_node.camera import CameraModel

    return CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5)
