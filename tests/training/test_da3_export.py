"""depth-node export-hf of Depth Anything 3: seeded random networks saved as the package saves them, exported,
and the node's whole path (its OpenCV resize and normalisation, ONNX Runtime, its output handling) compared
with the package's own single-view inference on the same image.

The package's reference here is its preprocessing (``InputProcessor``'s upper_bound_resize: longest side to
process_res with cv2 area / bicubic, sides to the nearest multiple of 14, ToTensor, ImageNet normalisation;
written out, as that module imports torchvision for two tensor helpers), its network's full forward
(``DepthAnything3Net``, camera branch and the mono sky fill included) in float32 and its ``OutputProcessor``.
``DepthAnything3.inference`` itself cannot be imported without moviepy, open3d and evo.

Tolerances: median relative difference < 1 %, correlation > 0.99 (relative models after one scale factor,
the metric model in metres at the same focal length). The sizes are smaller than a robot's (process_res 280)
to keep the test fast; the code path is the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("depth_anything_3")
pytest.importorskip("onnxscript")

from depth_node.camera import CameraModel
from depth_node.cli import main
from depth_node.estimator import OnnxEstimator
from tests.da3_models import register_vits_variant, save_da3
from tests.hf_models import smooth_image

PROCESS_RES = 280
INPUT = "280x210"  # what process_res 280 makes of a 4:3 frame
TUM = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tum_rgbd" / "1.png"
MODELS = ("da3-small", "da3metric-vits", "da3mono-vits")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """model name -> (save_pretrained dir, exported .onnx, the command's JSON), made once per module."""
    from depth_anything_3.registry import MODEL_REGISTRY

    root = tmp_path_factory.mktemp("da3")
    before = dict(MODEL_REGISTRY)
    register_vits_variant("da3metric-vits", "da3metric-large", root / "configs")
    register_vits_variant("da3mono-vits", "da3mono-large", root / "configs")
    cache: dict[str, tuple[Path, Path, dict[str, Any]]] = {}

    def get(name: str, capsys: Any) -> tuple[Path, Path, dict[str, Any]]:
        if name not in cache:
            src = save_da3(name, root / name)
            out = root / f"{name}.onnx"
            capsys.readouterr()
            assert main(["export-hf", str(src), "--out", str(out), "--input-size", INPUT]) == 0
            cache[name] = (src, out, json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
        return cache[name]

    yield get
    MODEL_REGISTRY.clear()
    MODEL_REGISTRY.update(before)


def _library(src: Path, rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The package's single-view inference at PROCESS_RES: depth, conf, raw sky score (as available)."""
    import cv2
    import torch
    from depth_anything_3.utils.io.output_processor import OutputProcessor

    from tests.da3_models import saved_class

    h, w = rgb.shape[:2]
    scale = PROCESS_RES / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)

    def nearest(x: int) -> int:
        down = x // 14 * 14
        return down + 14 if abs(down + 14 - x) <= abs(x - down) else down

    div = (nearest(img.shape[1]), nearest(img.shape[0]))
    if div != (img.shape[1], img.shape[0]):
        upscale = div[0] > img.shape[1] or div[1] > img.shape[0]
        img = cv2.resize(img, div, interpolation=cv2.INTER_CUBIC if upscale else cv2.INTER_AREA)
    x = (img.astype(np.float32) / 255.0 - np.array([0.485, 0.456, 0.406], np.float32)) / np.array(
        [0.229, 0.224, 0.225], np.float32
    )
    batch = torch.from_numpy(x.transpose(2, 0, 1).copy())[None, None]
    model = saved_class().from_pretrained(str(src)).eval()
    with torch.no_grad():
        raw = model.model(batch, None, None, [], False, False, "saddle_balanced")
    sky = raw["sky"][0, 0].numpy() if "sky" in raw else None
    prediction = OutputProcessor()(raw)
    out = {"depth": np.asarray(prediction.depth[0], np.float64)}
    if prediction.conf is not None:
        out["conf"] = np.asarray(prediction.conf[0], np.float64)
    if sky is not None:
        out["sky"] = sky
    return out


def _up(a: np.ndarray, h: int, w: int) -> np.ndarray:
    import cv2

    return np.asarray(cv2.resize(a.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR), np.float64)


def _agreement(ours: np.ndarray, ref: np.ndarray, mask: np.ndarray, fit_scale: bool) -> tuple[float, float]:
    ok = mask & np.isfinite(ours) & np.isfinite(ref)
    a, b = ours[ok], ref[ok]
    if fit_scale:
        a = a * np.median(b / a)
    return float(np.median(np.abs(a - b) / np.abs(b))), float(np.corrcoef(a, b)[0, 1])


def _image(source: str) -> np.ndarray:
    if source == "synthetic":
        return smooth_image(240, 320, seed=3)
    if not TUM.is_file():
        pytest.skip(f"{TUM} is absent (the shared data set)")
    import cv2

    return np.ascontiguousarray(cv2.imread(str(TUM))[:, :, ::-1])


def _camera(rgb: np.ndarray, fx: float) -> CameraModel:
    h, w = rgb.shape[:2]
    return CameraModel(w, h, fx, fx, (w - 1) / 2, (h - 1) / 2)


def test_export_writes_the_outputs_and_spec_of_each_kind(exported: Any, capsys: Any) -> None:
    import onnxruntime as ort

    expected = {
        "da3-small": (["depth", "confidence"], "relative_depth", 0.0),
        "da3metric-vits": (["depth", "sky"], "metric_depth", 300.0),
        "da3mono-vits": (["depth", "sky"], "relative_depth", 0.0),
    }
    for name, (outputs, kind, focal) in expected.items():
        _, out, info = exported(name, capsys)
        assert info["family"] == "depth_anything_3" and info["max_rel_diff"] < 1e-4
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        assert [o.name for o in session.get_outputs()] == outputs
        assert session.get_inputs()[0].shape[2:] == [210, 280]
        spec = info["spec"]
        assert (spec["output_kind"], spec["trained_fx"]) == (kind, focal)
        assert spec["confidence_output"] == ("confidence" if "confidence" in outputs else "")
        assert spec["sky_output"] == ("sky" if "sky" in outputs else "")


@pytest.mark.parametrize("source", ["synthetic", "tum"])
@pytest.mark.parametrize("name", MODELS)
def test_node_matches_the_package(name: str, source: str, exported: Any, capsys: Any) -> None:
    src, out, _ = exported(name, capsys)
    rgb = _image(source)
    h, w = rgb.shape[:2]
    ref = _library(src, rgb)
    estimator = OnnxEstimator(out, providers=["cpu"])
    estimator.set_output_options(mask_sky=False)  # compare the raw depth; the sky is checked below
    fx = 0.9 * w
    got = estimator.predict_outputs(rgb, _camera(rgb, fx))
    depth = _up(ref["depth"], h, w)
    assert float(depth.std() / depth.mean()) > 0.1  # a flat map would pass any convention
    metric = name.startswith("da3metric")
    if metric:  # the package's metric depth is at focal 300 px of the processed image
        depth = depth * (fx * PROCESS_RES / max(h, w)) / 300.0
    not_sky = np.ones((h, w), bool)
    if "sky" in ref:  # the package writes a far depth into sky: leave out every pixel the upsampling mixes it into
        import cv2

        sky = cv2.dilate((ref["sky"] >= 0.3).astype(np.uint8), np.ones((3, 3), np.uint8))
        not_sky = _up(sky, h, w) == 0.0
    assert not_sky.mean() > 0.3
    median, corr = _agreement(got.depth.astype(np.float64), depth, not_sky, fit_scale=not metric)
    assert median < 0.01 and corr > 0.99, (median, corr)
    if "conf" in ref:
        assert got.confidence is not None
        median, corr = _agreement(got.confidence.astype(np.float64), _up(ref["conf"], h, w), not_sky, False)
        assert median < 0.01 and corr > 0.99, (median, corr)
    else:
        assert got.confidence is None


def test_sky_is_unknown_depth_unless_switched_off(exported: Any, capsys: Any) -> None:
    src, out, _ = exported("da3metric-vits", capsys)
    rgb = _image("synthetic")
    h, w = rgb.shape[:2]
    sky = _up(_library(src, rgb)["sky"], h, w) >= 0.3
    assert 0.02 < sky.mean() < 0.5
    estimator = OnnxEstimator(out, providers=["cpu"])
    masked = estimator.predict(rgb, _camera(rgb, 300.0))
    agree = np.isnan(masked) == sky
    assert agree.mean() > 0.98
    estimator.set_output_options(mask_sky=False)
    assert np.isfinite(estimator.predict(rgb, _camera(rgb, 300.0))).mean() > 0.99


def test_metric_depth_scales_with_the_camera_focal(exported: Any, capsys: Any) -> None:
    _, out, _ = exported("da3metric-vits", capsys)
    rgb = _image("synthetic")
    estimator = OnnxEstimator(out, providers=["cpu"])
    near = estimator.predict(rgb, _camera(rgb, 250.0))
    far = estimator.predict(rgb, _camera(rgb, 500.0))
    ok = np.isfinite(near) & np.isfinite(far)
    assert ok.mean() > 0.5
    np.testing.assert_allclose(far[ok], 2.0 * near[ok], rtol=1e-5)


def test_min_confidence_turns_unsure_depth_unknown(exported: Any, capsys: Any) -> None:
    _, out, _ = exported("da3-small", capsys)
    rgb = _image("synthetic")
    estimator = OnnxEstimator(out, providers=["cpu"])
    full = estimator.predict_outputs(rgb, _camera(rgb, 300.0))
    assert full.confidence is not None and np.isfinite(full.depth).all()
    threshold = float(np.median(full.confidence))
    estimator.set_output_options(min_confidence=threshold)
    cut = estimator.predict(rgb, _camera(rgb, 300.0))
    np.testing.assert_array_equal(np.isnan(cut), full.confidence < threshold)
    assert 0.3 < np.isnan(cut).mean() < 0.7


def test_a_wrong_convention_fails_the_comparison(exported: Any, capsys: Any) -> None:
    """BGR instead of RGB: the comparison must see it (the random network reads its input)."""
    src, out, _ = exported("da3-small", capsys)
    rgb = _image("synthetic")
    h, w = rgb.shape[:2]
    ref = _up(_library(src, rgb)["depth"], h, w)
    estimator = OnnxEstimator(out, spec_overrides={"color_order": "bgr"}, providers=["cpu"])
    median, corr = _agreement(estimator.predict(rgb, _camera(rgb, 300.0)).astype(np.float64), ref, ref > 0, True)
    assert median >= 0.01 or corr <= 0.99, (median, corr)


def test_refusals_are_one_line(tmp_path: Path, capsys: Any) -> None:
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "config.json").write_text(json.dumps({"model_name": "da3nested-giant-large"}))
    (nested / "model.safetensors").write_bytes(b"")
    capsys.readouterr()
    assert main(["export-hf", str(nested), "--out", str(tmp_path / "n.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "da3nested-giant-large" in err and "not exported" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"model_name": "da3-small"}))
    (bad / "model.safetensors").write_bytes(b"truncated")
    assert main(["export-hf", str(bad), "--out", str(tmp_path / "b.onnx")]) == 2
    assert "weights could not be loaded" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.onnx*"))


def test_predict_scales_metric_depth_by_the_hfov(exported: Any, capsys: Any, tmp_path: Path) -> None:
    """``depth-node predict --hfov-deg``: the same spec path as the node (f / 300 at the input width)."""
    import math

    import cv2

    _, out, _ = exported("da3metric-vits", capsys)
    rgb = _image("synthetic")
    frame = tmp_path / "frame.png"
    cv2.imwrite(str(frame), rgb[:, :, ::-1])
    depths = {}
    for hfov in (60.0, 90.0):
        target = tmp_path / f"hfov{int(hfov)}"
        argv = ["predict", str(frame), "--out", str(target), "--model", str(out), "--hfov-deg", str(hfov)]
        assert main(argv) == 0
        depths[hfov] = np.load(target / "frame_depth.npy")
    ok = np.isfinite(depths[60.0]) & np.isfinite(depths[90.0])
    assert ok.mean() > 0.5
    ratio = math.tan(math.radians(45.0)) / math.tan(math.radians(30.0))
    np.testing.assert_allclose(depths[60.0][ok], ratio * depths[90.0][ok], rtol=1e-4)
    w = rgb.shape[1]
    estimator = OnnxEstimator(out, providers=["cpu"])
    fx = (w / 2) / math.tan(math.radians(30.0))
    np.testing.assert_allclose(depths[60.0], estimator.predict(rgb, _camera(rgb, fx)), rtol=1e-5, equal_nan=True)
