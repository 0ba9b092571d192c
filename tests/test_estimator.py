"""Estimators on tiny ONNX models exported here: output kinds, focal rescale, providers, spec overrides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depth_node.camera import CameraModel
from depth_node.errors import ModelError, ProviderUnavailableError
from depth_node.estimator import OnnxEstimator, load_estimator, resolve_providers
from depth_node.model_spec import ModelSpec, OutputKind
from tests.onnx_models import plain_spec, write_affine_model


def _image(red: int = 51, blue: int = 102, h: int = 48, w: int = 64) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = red
    img[..., 2] = blue
    return img


def test_metric_model_gives_known_depth_at_camera_resolution(metric_model: Path) -> None:
    est = load_estimator(metric_model, providers=("cpu",))
    cam = CameraModel(640, 480, 500.0, 500.0, 319.5, 239.5)
    depth = est.predict(_image(h=480, w=640), cam)
    assert depth.shape == (480, 640) and depth.dtype == np.float32
    np.testing.assert_allclose(depth, 1.0 + 4.0 * 51 / 255, rtol=1e-6)
    assert est.spec.input_width == 64 and est.spec.input_height == 48


def test_inverse_depth_kind_is_inverted(tmp_path: Path, camera: CameraModel) -> None:
    path = write_affine_model(tmp_path / "inv.onnx", plain_spec(output_kind="relative_inverse_depth"))
    depth = load_estimator(path, providers=("cpu",)).predict(_image(), camera)
    np.testing.assert_allclose(depth, 1.0 / (1.0 + 4.0 * 0.2), rtol=1e-6)


def test_negative_disparity_is_unknown(tmp_path: Path, camera: CameraModel) -> None:
    path = write_affine_model(tmp_path / "inv.onnx", plain_spec(output_kind="relative_inverse_depth"), offset=-1.0)
    img = _image(red=0)
    img[:, :32, 0] = 255  # left half: disparity 3 -> 1/3 m; right half: disparity -1 -> unknown
    depth = load_estimator(path, providers=("cpu",)).predict(img, camera)
    assert np.isnan(depth[:, 40:]).all()
    np.testing.assert_allclose(depth[:, :24], 1.0 / 3.0, rtol=1e-5)


def test_focal_rescale_of_metric_models(tmp_path: Path) -> None:
    path = write_affine_model(tmp_path / "f.onnx", plain_spec(trained_fx=50.0, trained_width=64))
    est = load_estimator(path, providers=("cpu",))
    base = 1.0 + 4.0 * 0.2
    same = est.predict(_image(), CameraModel(64, 48, 50.0, 50.0, 31.5, 23.5))
    np.testing.assert_allclose(same, base, rtol=1e-6)
    # Twice the focal length at a 10x larger image: normalised focal doubles, so does the depth.
    tele = est.predict(_image(h=480, w=640), CameraModel(640, 480, 1000.0, 1000.0, 319.5, 239.5))
    np.testing.assert_allclose(tele, 2 * base, rtol=1e-6)


def test_valid_range_gives_nan(tmp_path: Path, camera: CameraModel) -> None:
    path = write_affine_model(tmp_path / "r.onnx", plain_spec(max_depth_m=1.5))
    depth = load_estimator(path, providers=("cpu",)).predict(_image(), camera)
    assert np.isnan(depth).all()


def test_spec_overrides_for_a_plain_export(tmp_path: Path, camera: CameraModel) -> None:
    path = write_affine_model(tmp_path / "plain.onnx", spec=None, squeeze_channel=True)
    default = load_estimator(path, providers=("cpu",))
    assert default.spec.mean == ModelSpec().mean  # no metadata: library defaults
    overrides = {"mean": [0, 0, 0], "std": [1, 1, 1], "color_order": "bgr", "output_kind": "metric_depth"}
    est = load_estimator(path, spec_overrides=overrides, providers=("cpu",))
    np.testing.assert_allclose(est.predict(_image(), camera), 1.0 + 4.0 * 102 / 255, rtol=1e-6)
    assert est.spec.output_kind is OutputKind.METRIC_DEPTH


def test_dynamic_input_rounds_to_multiple(tmp_path: Path) -> None:
    path = write_affine_model(tmp_path / "dyn.onnx", plain_spec(input_width=96, size_multiple=16), fixed_hw=None)
    est = load_estimator(path, providers=("cpu",))
    assert est.input_size(480, 640) == (80, 96)  # 96 * 3/4 = 72 -> 80 (nearest multiple of 16)
    cam = CameraModel(640, 480, 500.0, 500.0, 319.5, 239.5)
    np.testing.assert_allclose(est.predict(_image(h=480, w=640), cam), 1.8, rtol=1e-6)
    free = load_estimator(
        write_affine_model(tmp_path / "free.onnx", plain_spec(size_multiple=32), fixed_hw=None),
        providers=("cpu",),
    )
    assert free.input_size(470, 650) == (480, 640)


def test_fixed_input_contradicting_spec_is_refused(tmp_path: Path) -> None:
    path = write_affine_model(tmp_path / "c.onnx", plain_spec(input_width=128, input_height=96))
    with pytest.raises(ModelError, match="contradicts the network's fixed input 64x48"):
        load_estimator(path, providers=("cpu",))


def test_provider_fallback_and_refusal(metric_model: Path) -> None:
    est = load_estimator(metric_model, providers=("tensorrt", "cuda", "cpu"))
    assert est.provider == "CPUExecutionProvider"
    assert resolve_providers(["cuda", "CPUExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    with pytest.raises(ProviderUnavailableError, match=r"none of the requested providers \['cuda'\]"):
        load_estimator(metric_model, providers=("cuda",))


def test_bad_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_estimator(tmp_path / "missing.onnx", providers=("cpu",))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(ModelError, match="could not be loaded by onnxruntime"):
        load_estimator(junk, providers=("cpu",))
    with pytest.raises(ModelError, match="expected .onnx"):
        load_estimator(tmp_path / "model.tflite")


def test_metadata_round_trip_and_bad_fields() -> None:
    spec = ModelSpec(input_width=224, input_height=160, output_kind=OutputKind.RELATIVE_DEPTH, trained_fx=180.0)
    assert ModelSpec.from_metadata(spec.to_metadata()) == spec
    with pytest.raises(ModelError, match="unknown field"):
        ModelSpec.from_metadata({"depth_node.model_spec": '{"input_wdth": 3}'})
    with pytest.raises(ModelError, match="not valid JSON"):
        ModelSpec.from_metadata({"depth_node.model_spec": "{"})
    with pytest.raises(ModelError, match="color_order"):
        ModelSpec(color_order="gbr")


def test_torch_backend_matches_onnx(metric_model: Path, tmp_path: Path, camera: CameraModel) -> None:
    torch = pytest.importorskip("torch")

    class Affine(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 4.0 * x[:, 0:1] + 1.0

    path = tmp_path / "affine.pt2"
    torch.export.save(torch.export.export(Affine(), (torch.zeros(1, 3, 48, 64),)), str(path))
    spec = plain_spec(input_width=64, input_height=48).to_dict()
    est = load_estimator(path, spec_overrides=spec, device="cpu")
    assert est.provider == "torch:cpu"
    onnx_depth = load_estimator(metric_model, providers=("cpu",)).predict(_image(), camera)
    np.testing.assert_allclose(est.predict(_image(), camera), onnx_depth, rtol=1e-6)


def test_a_model_without_spec_says_once_what_it_assumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from depth_node.commands.common import build_estimator
    from depth_node.depth_params import DepthNodeParams, ModelOverrides

    plain = write_affine_model(tmp_path / "plain.onnx", None)
    told: list[str] = []
    build_estimator(DepthNodeParams(model_path=str(plain), providers=("cpu",)), notify=told.append)
    assert len(told) == 1
    assert "has no 'depth_node.model_spec' metadata" in told[0] and "mean [0.485, 0.456, 0.406]" in told[0]
    assert "model:" in told[0]  # how to set them
    # With YAML overrides, or with a spec in the file, nothing is assumed and nothing is said.
    told.clear()
    given = ModelOverrides(output_kind="metric_depth")
    build_estimator(DepthNodeParams(model_path=str(plain), providers=("cpu",), model=given), notify=told.append)
    with_spec = write_affine_model(tmp_path / "spec.onnx", plain_spec())
    build_estimator(DepthNodeParams(model_path=str(with_spec), providers=("cpu",)), notify=told.append)
    assert told == []
    # The CLI says it on stderr, once.
    import cv2

    from depth_node.cli import main

    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((48, 64, 3), 128, np.uint8))
    assert main(["predict", str(image), "--out", str(tmp_path / "out"), "--model", str(plain)]) == 0
    err = capsys.readouterr().err
    assert err.count("has no 'depth_node.model_spec' metadata") == 1


def test_keep_aspect_and_floor_rounding_of_dynamic_inputs(tmp_path: Path) -> None:
    path = write_affine_model(tmp_path / "dyn.onnx", plain_spec(), fixed_hw=None)
    keep = OnnxEstimator(
        path, {"input_width": 518, "input_height": 518, "size_multiple": 14, "keep_aspect_ratio": True}
    )
    assert keep.input_size(480, 640) == (518, 686)  # the side nearer its nominal length is matched
    assert keep.input_size(720, 1280) == (518, 924)
    floor = OnnxEstimator(path, {"size_multiple": 32, "size_rounding": "floor"})
    assert floor.input_size(470, 630) == (448, 608)
    assert OnnxEstimator(path, {"size_multiple": 32}).input_size(470, 630) == (480, 640)
    with pytest.raises(ModelError, match="size_rounding"):
        OnnxEstimator(path, {"size_rounding": "up"})


def test_the_split_modules_are_still_importable_from_estimator() -> None:
    """depth_node.estimator was split (sessions, model files, input geometry, outputs): its old names remain."""
    from depth_node import estimator, input_geometry, model_files, model_outputs, onnx_session

    assert estimator.open_session is onnx_session.open_session
    assert estimator.resolve_providers is onnx_session.resolve_providers
    assert estimator.DEFAULT_PROVIDERS == onnx_session.DEFAULT_PROVIDERS
    assert estimator.default_model_path is model_files.default_model_path
    assert estimator.keep_aspect_size is input_geometry.keep_aspect_size
    assert estimator.DepthOutputs is model_outputs.DepthOutputs
    assert set(estimator.__all__) <= set(dir(estimator))
