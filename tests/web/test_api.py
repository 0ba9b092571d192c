"""The JSON API through FastAPI's TestClient, on real ONNX Runtime sessions of tiny models made here."""

from __future__ import annotations

import base64
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from depth_node.depth_files import depth_to_mm, mm_to_depth
from depth_node.metrics import compute_metrics, median_scaled
from depth_node.web.app import ServerOptions, create_app
from depth_node.web.registry import ServedModel, load_models, model_files
from tests.web.conftest import H, W, from_b64_npy, npy, png

KEYS = {"abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "mae", "mse", "n_pixels"}


@pytest.fixture(scope="module")
def models(models_dir: Path) -> dict[str, ServedModel]:
    return load_models(model_files(models_dir, [], include_default=False), providers=["cpu"])


@pytest.fixture(scope="module")
def client(models: dict[str, ServedModel]) -> Iterator[TestClient]:
    with TestClient(create_app(models)) as c:
        yield c


def post(client: TestClient, image: bytes, gt: bytes | None = None, **fields: str) -> Any:
    files: dict[str, tuple[str, bytes]] = {"image": ("frame.png", image)}
    if gt is not None:
        files["gt"] = ("frame_depth.png", gt)
    return client.post("/api/predict", files=files, data=fields)


def test_models_lists_name_kind_and_input_size_from_metadata_and_sidecar(client: TestClient) -> None:
    resp = client.get("/api/models")
    assert resp.status_code == 200
    assert resp.json() == [
        {"name": "metric", "kind": "metric_depth", "input_width": 64, "input_height": 48},
        {"name": "plain", "kind": "relative_inverse_depth", "input_width": 32, "input_height": 32},
        {"name": "relative", "kind": "relative_depth", "input_width": 0, "input_height": 0},
    ]


def test_predict_without_gt_returns_depth_at_image_resolution(client: TestClient, image_bgr: np.ndarray) -> None:
    resp = post(client, png(image_bgr), model="metric")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {"model", "width", "height", "latency_ms", "depth_npy", "depth_png", "metrics"} <= set(body)
    assert (body["model"], body["width"], body["height"], body["metrics"]) == ("metric", W, H, None)
    assert body["latency_ms"] > 0
    depth = from_b64_npy(body["depth_npy"])
    assert depth.dtype == np.float32 and depth.shape == (H, W)
    red = image_bgr[..., 2].astype(np.float32)
    np.testing.assert_allclose(depth, 4.0 * red / 255.0 + 1.0, rtol=1e-5)  # the affine model's exact answer
    colour = cv2.imdecode(np.frombuffer(base64.b64decode(body["depth_png"]), np.uint8), cv2.IMREAD_UNCHANGED)
    assert colour.shape == (H, W, 3) and colour.dtype == np.uint8
    mm = cv2.imdecode(np.frombuffer(base64.b64decode(body["depth_mm_png"]), np.uint8), cv2.IMREAD_UNCHANGED)
    assert mm.dtype == np.uint16 and np.array_equal(mm, depth_to_mm(depth))
    ply = base64.b64decode(body["ply"])
    header, data = ply.split(b"end_header\n", 1)
    assert b"element vertex 3072" in header and len(data) == 3072 * 15  # x y z float + r g b uchar per point
    assert len(base64.b64decode(body["points"])) == 3072 * 12


def test_predict_with_png_gt_scores_with_the_shared_metrics(
    client: TestClient, image_bgr: np.ndarray, gt_m: np.ndarray
) -> None:
    mm = depth_to_mm(gt_m)
    resp = post(client, png(image_bgr), png(mm), model="metric", hfov_deg="70")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    depth = from_b64_npy(body["depth_npy"])
    expected = compute_metrics(depth, mm_to_depth(mm), min_depth=0.1, max_depth=10.0, with_ssim=False)
    assert set(body["metrics"]) == KEYS
    for key in KEYS - {"mse"}:
        assert body["metrics"][key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), key
    assert body["metrics"]["mse"] == pytest.approx(expected["rmse"] ** 2)
    assert body["metrics"]["n_pixels"] == int(np.sum(np.isfinite(gt_m) & (gt_m <= 10.0)))
    assert body["median_scaled"] is False
    assert body["camera"]["fx"] == pytest.approx(32.0 / np.tan(np.radians(35.0)))
    for key in ("gt_png", "error_png"):
        img = cv2.imdecode(np.frombuffer(base64.b64decode(body[key]), np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (H, W, 3)


def test_relative_model_is_scored_after_median_scaling_with_npy_gt(
    client: TestClient, image_bgr: np.ndarray, gt_m: np.ndarray
) -> None:
    resp = post(client, png(image_bgr), npy(gt_m), model="relative", fx="50")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    depth = from_b64_npy(body["depth_npy"])
    valid = np.isfinite(gt_m) & (gt_m >= 0.1) & (gt_m <= 10.0)
    expected = compute_metrics(median_scaled(depth, gt_m, valid), gt_m, min_depth=0.1, max_depth=10.0, with_ssim=False)
    for key in KEYS - {"mse"}:
        assert body["metrics"][key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), key
    assert body["median_scaled"] is True and body["scale"] > 0
    raw = compute_metrics(depth, gt_m, min_depth=0.1, max_depth=10.0, with_ssim=False)
    assert body["metrics"]["abs_rel"] < raw["abs_rel"]  # scaling is really applied


def test_default_model_is_the_first_and_sidecar_spec_is_used(client: TestClient, image_bgr: np.ndarray) -> None:
    assert post(client, png(image_bgr)).json()["model"] == "metric"
    uniform = np.full((H, W, 3), 51, np.uint8)
    body = post(client, png(uniform), model="plain").json()
    depth = from_b64_npy(body["depth_npy"])
    # plain.yaml: inverse depth with mean 0 / std 1, so depth = 1 / (51 / 255 + 0.2) = 2.5 m everywhere.
    np.testing.assert_allclose(depth, 2.5, rtol=1e-5)


def _bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height and that holds no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("not_an_image", 415, "is not an image"),
        ("gt_not_an_image", 415, "is not an image"),
        ("gt_8bit", 415, "16-bit PNG"),
        ("gt_size", 422, "ground truth is 32x24 but the image is 64x48"),
        ("too_large", 413, "over this server's limit of 25 megapixels"),
        ("gt_too_large", 413, "over this server's limit"),
        ("unknown_model", 400, "unknown model 'nope'"),
        ("path_as_model", 400, "unknown model '../metric.onnx'"),
        ("fx_and_hfov", 422, "not both"),
        ("fx_text", 400, "field 'fx' must be a number"),
        ("hfov_range", 422, "hfov_deg must be between 0 and 180"),
        ("no_image", 400, "field 'image'"),
        ("gt_out_of_range", 422, "no ground-truth pixel inside"),
    ],
)
def test_bad_input_is_a_4xx_with_one_line(
    client: TestClient, image_bgr: np.ndarray, gt_m: np.ndarray, case: str, status: int, words: str
) -> None:
    image = png(image_bgr)
    if case == "not_an_image":
        resp = post(client, b"this is a text file, not a picture\n")
    elif case == "gt_not_an_image":
        resp = post(client, image, b"1,2,3\n")
    elif case == "gt_8bit":
        resp = post(client, image, png(image_bgr[..., 0]))
    elif case == "gt_size":
        resp = post(client, image, png(depth_to_mm(gt_m[::2, ::2])))
    elif case == "too_large":
        resp = post(client, _bomb_png(20000, 20000))  # 400 MP claimed, 57 bytes sent: refused on the header
    elif case == "gt_too_large":
        resp = post(client, image, _bomb_png(20000, 20000))
    elif case == "unknown_model":
        resp = post(client, image, model="nope")
    elif case == "path_as_model":
        resp = post(client, image, model="../metric.onnx")
    elif case == "fx_and_hfov":
        resp = post(client, image, fx="50", hfov_deg="60")
    elif case == "fx_text":
        resp = post(client, image, fx="fifty")
    elif case == "hfov_range":
        resp = post(client, image, hfov_deg="200")
    elif case == "no_image":
        resp = client.post("/api/predict", data={"model": "metric"})
    else:
        resp = post(client, image, npy(np.full((H, W), 50.0, np.float32)))
    assert resp.status_code == status, resp.text
    detail = resp.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail, detail


def test_pixel_limit_is_a_parameter(models: dict[str, ServedModel], image_bgr: np.ndarray) -> None:
    with TestClient(create_app(models, ServerOptions(max_megapixels=0.001))) as small:
        resp = post(small, png(image_bgr))
    assert resp.status_code == 413
    assert resp.json()["detail"] == (
        "the image is 64x48 = 0.0 megapixels, over this server's limit of 0.001 megapixels"
    )


def test_a_body_too_large_for_any_allowed_image_is_refused_before_parsing(
    models: dict[str, ServedModel], image_bgr: np.ndarray
) -> None:
    options = ServerOptions(max_megapixels=0.001)
    with TestClient(create_app(models, options)) as small:
        resp = post(small, b"\0" * (options.max_body_bytes + 1))
    assert resp.status_code == 413
    assert resp.json()["detail"] == "request of 1 MB is over this server's limit"


def test_static_files_never_leave_the_package(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing fetched from the internet
    assert client.get("/static/app.js").status_code == 200
    bar = client.get("/api/colorbar.png")
    ramp = cv2.imdecode(np.frombuffer(bar.content, np.uint8), cv2.IMREAD_COLOR)
    assert bar.headers["content-type"] == "image/png" and ramp.shape == (1, 256, 3)
    assert ramp[0, 0].sum() > ramp[0, -1].sum()  # inferno_r: near (left) bright, far (right) dark
    for path in ("/static/../registry.py", "/static/%2e%2e/registry.py", "/static/..%2fregistry.py"):
        assert client.get(path).status_code == 404, path


def test_two_concurrent_requests_both_complete_and_each_model_runs_one_at_a_time(
    models: dict[str, ServedModel], image_bgr: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    active: dict[str, int] = {"metric": 0, "relative": 0, "all": 0}
    peak = dict(active)
    guard = threading.Lock()

    def slow(name: str, predict: Any) -> Any:
        def run(rgb: np.ndarray, camera: Any) -> np.ndarray:
            with guard:
                for key in (name, "all"):
                    active[key] += 1
                    peak[key] = max(peak[key], active[key])
            time.sleep(0.3)
            try:
                return predict(rgb, camera)
            finally:
                with guard:
                    active[name] -= 1
                    active["all"] -= 1

        return run

    for name in ("metric", "relative"):
        monkeypatch.setattr(models[name].estimator, "predict", slow(name, models[name].estimator.predict))
    results: list[int] = []

    def call(client: TestClient, model: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        results.append(post(client, png(image_bgr), model=model).status_code)

    with TestClient(create_app(models)) as client:
        for pair in (("metric", "relative"), ("metric", "metric")):
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=call, args=(client, m, barrier)) for m in pair]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
    assert results == [200, 200, 200, 200]
    assert peak["all"] == 2  # two models' requests really ran at the same time
    assert peak["metric"] == 1  # but one model never ran twice at once


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tiff"])
def test_header_size_is_read_without_decoding(ext: str) -> None:
    from depth_node.web.inference import image_header_size

    ok, buf = cv2.imencode(ext, np.zeros((37, 53, 3), np.uint8))
    assert ok
    assert image_header_size(bytes(buf), "the image") == (53, 37)


def test_latency_is_the_models_time_not_the_wait_for_another_request(
    client: TestClient, models: dict[str, ServedModel], image_bgr: np.ndarray
) -> None:
    answers: list[Any] = []
    lock = models["metric"].lock
    lock.acquire()  # another tab's request holds the model for a second
    try:
        thread = threading.Thread(target=lambda: answers.append(post(client, png(image_bgr), model="metric")))
        thread.start()
        time.sleep(1.0)
    finally:
        lock.release()
    thread.join(timeout=30)
    assert answers[0].status_code == 200
    assert answers[0].json()["latency_ms"] < 500.0  # the tiny model takes about a millisecond


def test_depth_scale_reads_a_tum_png(client: TestClient, image_bgr: np.ndarray, gt_m: np.ndarray) -> None:
    """A TUM RGB-D depth PNG holds 5000 units per metre: with depth_scale=5000 it scores as the same metres."""
    in_range = np.where(gt_m <= 10.0, gt_m, np.nan)  # 5000 units per metre: 13.1 m is the most a uint16 holds
    tum = np.nan_to_num(np.rint(in_range * 5000.0), nan=0.0).astype(np.uint16)
    mm = depth_to_mm(in_range)
    as_mm = post(client, png(image_bgr), png(mm), model="metric").json()["metrics"]
    as_tum = post(client, png(image_bgr), png(tum), model="metric", depth_scale="5000").json()["metrics"]
    assert as_tum["n_pixels"] == as_mm["n_pixels"]
    assert as_tum["abs_rel"] == pytest.approx(as_mm["abs_rel"], abs=2e-4)  # 0.2 mm against 1 mm rounding
    # Read as millimetres (what the page did before the field), the same file is 5x too far and scored wrong.
    wrong = post(client, png(image_bgr), png(tum), model="metric").json()["metrics"]
    assert wrong["n_pixels"] < as_mm["n_pixels"] and wrong["abs_rel"] > 0.5
    # An explicit 1000 is the default; a .npy is metres whatever the scale says.
    assert post(client, png(image_bgr), png(mm), model="metric", depth_scale="1000").json()["metrics"] == as_mm
    npy_metrics = post(client, png(image_bgr), npy(in_range), model="metric", depth_scale="5000").json()["metrics"]
    assert npy_metrics["n_pixels"] == as_mm["n_pixels"]


@pytest.mark.parametrize("value", ["0", "-5", "abc", "nan"])
def test_bad_depth_scale_is_refused_in_one_line(
    client: TestClient, image_bgr: np.ndarray, gt_m: np.ndarray, value: str
) -> None:
    resp = post(client, png(image_bgr), png(depth_to_mm(gt_m)), model="metric", depth_scale=value)
    assert resp.status_code == 400
    assert "depth_scale" in resp.json()["detail"] and "\n" not in resp.json()["detail"]


def test_the_page_has_a_favicon_and_a_depth_scale_field(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert cv2.imdecode(np.frombuffer(icon.content, np.uint8), cv2.IMREAD_COLOR).shape == (32, 32, 3)
    page = client.get("/").text
    assert 'rel="icon"' in page and "units / m" in page and 'value="5000"' in page
    assert "depth_scale" in client.get("/static/app.js").text
