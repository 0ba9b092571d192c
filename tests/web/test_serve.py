"""``depth-node serve`` as a real process: its URL, concurrent clients, and Debian's chromium using the page.

The browser test uploads a frame rendered by the project's own renderer (depth_node/evaluation/world) with its exact
depth as a 16-bit PNG, compares the shipped model with a tiny one side by side, waits for the depth
images and the metrics table and saves a screenshot under tmp_path. It skips only without chromium.
"""

from __future__ import annotations

import base64
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import pytest

from depth_node.cli import main
from depth_node.commands.serve import is_loopback
from depth_node.depth_files import depth_to_mm
from depth_node.evaluation.world import camera_for, render_sample

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``depth-node serve`` on a free port; return the process and the URL it printed.

    stderr is merged into stdout and a thread keeps draining it, so the server never blocks on a full pipe.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "depth_node.cli", "serve", "--port", "0", "--providers", "cpu", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    out = proc.stdout
    assert out is not None
    threading.Thread(target=lambda: [lines.put(line) for line in out], daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            proc.kill()
            pytest.fail(f"depth-node serve printed no URL; it said: {''.join(seen)}")
        seen.append(line)
        if line.startswith("depth-node serve: http://"):
            assert line.startswith("depth-node serve: http://127.0.0.1:"), line
            return proc, line.split()[2]


@pytest.fixture(scope="module")
def server(models_dir: Path) -> Iterator[str]:
    proc, url = start_server("--model", str(models_dir / "metric.onnx"))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """A 256x192 frame of a procedural room and its exact depth (16-bit PNG, mm), and the camera's fx."""
    camera = camera_for(256, 192)
    frame = render_sample(20_000_003, camera)
    root = tmp_path_factory.mktemp("rendered")
    image, gt = root / "room.png", root / "room_depth.png"
    assert cv2.imwrite(str(image), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(str(gt), depth_to_mm(frame.depth))
    return image, gt, camera.fx


def test_serve_prints_its_url_lists_models_and_serves_two_clients_at_once(
    server: str, rendered: tuple[Path, Path, float]
) -> None:
    models = httpx.get(f"{server}api/models", timeout=10).json()
    assert [m["name"] for m in models] == ["fastdepth_synthetic", "metric"]
    image, gt, fx = rendered
    files = {"image": image.read_bytes(), "gt": gt.read_bytes()}
    results: list[httpx.Response] = []
    barrier = threading.Barrier(2)

    def call(model: str) -> None:
        barrier.wait()
        results.append(
            httpx.post(f"{server}api/predict", files=files, data={"model": model, "fx": str(fx)}, timeout=60)
        )

    threads = [threading.Thread(target=call, args=(m,)) for m in ("fastdepth_synthetic", "fastdepth_synthetic")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert [r.status_code for r in results] == [200, 200]
    a, b = (r.json() for r in results)
    assert a["depth_npy"] == b["depth_npy"] and a["metrics"] == b["metrics"]
    assert a["metrics"]["abs_rel"] < 0.3  # the shipped model on a frame like its training data


def test_serve_warns_when_bound_beyond_this_machine(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert main(["serve", "--port", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "depth-node serve: error: --port must be 0..65535, got -1"
    # 192.0.2.1 (TEST-NET-1) is nobody's address: the warning comes, then the bind fails in one line.
    metric = str(models_dir / "metric.onnx")
    assert main(["serve", "--no-default-model", "--host", "192.0.2.1", "--port", "0", "--model", metric]) == 2
    out = capsys.readouterr()
    warning, error = out.err.strip().splitlines()
    assert out.out == ""
    assert warning.startswith("depth-node serve: warning: binding 192.0.2.1, not this machine only")
    assert error.startswith("depth-node serve: error: cannot listen on 192.0.2.1:0: ")
    assert main(["serve", "--model", str(models_dir / "missing.onnx")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing.onnx' does not exist")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason="chromium and chromium-driver not installed")
def test_browser_uploads_an_image_with_gt_and_sees_depth_and_metrics(
    server: str, rendered: tuple[Path, Path, float], tmp_path: Path
) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    image, gt, fx = rendered
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1500,1900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        wait = WebDriverWait(driver, 90)
        driver.get(server)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#models input[type=checkbox]")) == 2)
        for box in driver.find_elements(By.CSS_SELECTOR, "#models input[type=checkbox]"):
            if not box.is_selected():
                box.click()
        driver.find_element(By.ID, "files").send_keys(str(image))
        driver.find_element(By.CSS_SELECTOR, "#queue .gt-input").send_keys(str(gt))
        driver.find_element(By.CSS_SELECTOR, "#queue .fx-input").send_keys(f"{fx:g}")
        # The ground truth's PNG units: millimetres unless changed (TUM: 5000); the icon the tab shows exists.
        assert driver.find_element(By.CSS_SELECTOR, "#queue .depth-scale-input").get_property("value") == "1000"
        icon = driver.execute_async_script("fetch('/favicon.ico').then((r) => arguments[0](r.status));")
        assert icon == 200
        driver.find_element(By.ID, "run").click()

        def done(d: webdriver.Chrome) -> bool:
            imgs = d.find_elements(By.CSS_SELECTOR, "img.depth-image")
            loaded = [d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) for i in imgs]
            cells = d.find_elements(By.CSS_SELECTOR, "table.metrics tr[data-key=abs_rel] td")
            return len(imgs) == 2 and all(loaded) and len(cells) == 3 and all(c.text for c in cells[1:])

        wait.until(done)
        assert not driver.find_elements(By.CSS_SELECTOR, ".card .error")
        assert driver.find_element(By.CSS_SELECTOR, "img.depth-image").get_property("naturalWidth") == 256
        assert driver.find_element(By.CSS_SELECTOR, ".gt-panel img").is_displayed()
        assert len(driver.find_elements(By.CSS_SELECTOR, "img.error-image")) == 2
        # The table shows what the API computes for the same upload.
        api = httpx.post(
            f"{server}api/predict",
            files={"image": image.read_bytes(), "gt": gt.read_bytes()},
            data={"model": "fastdepth_synthetic", "fx": f"{fx:g}"},
            timeout=60,
        ).json()
        shown = driver.find_elements(By.CSS_SELECTOR, "table.metrics tr[data-key=abs_rel] td")[1].text
        assert shown == f"{api['metrics']['abs_rel']:.4f}"
        downloads = [a.get_attribute("download") for a in driver.find_elements(By.CSS_SELECTOR, ".downloads a")]
        assert "room_fastdepth_synthetic_depth.npy" in downloads and "room_metric.ply" in downloads
        # Rotate the first 3-D view a little (it redraws on drag), then keep the page as a picture.
        view = driver.find_element(By.CSS_SELECTOR, "canvas.view")
        ActionChains(driver).move_to_element(view).click_and_hold().move_by_offset(40, 15).release().perform()
        lit = driver.execute_script(
            "const c = arguments[0].getContext('2d').getImageData(0, 0, 320, 240).data;"
            "let n = 0; for (let i = 3; i < c.length; i += 4) n += c[i] > 0; return n;",
            view,
        )
        assert lit > 5000  # the rotated cloud covers a good part of the view
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        picture = driver.execute_cdp_cmd(  # the whole page, not only the window
            "Page.captureScreenshot",
            {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, **{k: size[k] for k in ("width", "height")}, "scale": 1},
            },
        )
        shot = tmp_path / "serve_page.png"
        shot.write_bytes(base64.b64decode(picture["data"]))
        assert cv2.imread(str(shot)).shape[0] >= 1000

        # An upload that is not an image: the page says so in words.
        not_image = tmp_path / "notes.png"
        not_image.write_text("not a picture\n", encoding="utf-8")
        driver.get(server)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#models input[type=checkbox]"))
        driver.find_element(By.ID, "files").send_keys(str(not_image))
        driver.find_element(By.ID, "run").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".card .error"))
        text = driver.find_element(By.CSS_SELECTOR, ".card .error").text
        assert text.startswith("HTTP 415: the image is not an image"), text
    finally:
        driver.quit()
