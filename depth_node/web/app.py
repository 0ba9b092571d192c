"""The FastAPI shell: the page, its static files and the JSON API, wiring only.

``POST /api/predict`` is a plain (synchronous) endpoint, so the server runs it on its worker threads and
two tabs' requests proceed together; each model's lock (:class:`ServedModel`) serialises only the runs of
one model. Every refusal answers ``{"detail": "<one line>"}`` with a 4xx status, which the page shows as
it is, including FastAPI's own validation errors (turned into one line here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from depth_node.colorize import colorize_depth
from depth_node.errors import CameraModelError, DepthNodeError
from depth_node.metrics import MetricsError
from depth_node.web import inference
from depth_node.web.inference import TooLargeError, UnknownModelError, WebInputError
from depth_node.web.registry import ServedModel

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerOptions:
    """Limits and evaluation range of one server.

    Attributes:
        max_megapixels: Larger images (and ground truths) are refused before their pixels are decoded.
        gt_min_depth: Nearest ground truth scored, m (as replay's ``--gt-min-depth``).
        gt_max_depth: Farthest ground truth scored, m.
    """

    max_megapixels: float = 25.0
    gt_min_depth: float = 0.1
    gt_max_depth: float = 10.0

    @property
    def max_pixels(self) -> int:
        """The pixel limit as a count."""
        return int(self.max_megapixels * 1e6)

    @property
    def max_body_bytes(self) -> int:
        """A request body larger than this cannot hold an image within the pixel limit (plus its GT)."""
        return int(self.max_pixels * 8) + 1024 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _read_upload(upload: UploadFile, limit: int, what: str) -> bytes:
    if upload.size is not None and upload.size > limit:
        raise TooLargeError(
            f"{what} file is {upload.size / 1e6:.0f} MB, over this server's limit of {limit / 1e6:.0f} MB"
        )
    return upload.file.read()


def create_app(models: dict[str, ServedModel], options: ServerOptions | None = None) -> FastAPI:
    """The web application serving ``models`` (name -> model) with ``options``."""
    opts = options or ServerOptions()
    static = resources.files("depth_node.web") / "static"
    app = FastAPI(title="depth_node", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def refuse_huge_bodies(request: Request, call_next: Any) -> Response:
        # Before the multipart parser spools a body to disk: the declared length alone decides.
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > opts.max_body_bytes:
            return _error(413, f"request of {int(length) / 1e6:.0f} MB is over this server's limit")
        response: Response = await call_next(request)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return _error(400, f"field '{field}': {first.get('msg', 'invalid')}")

    @app.exception_handler(DepthNodeError)
    async def depth_node_error(request: Request, exc: DepthNodeError) -> JSONResponse:
        if isinstance(exc, WebInputError):
            return _error(exc.status, str(exc))
        if isinstance(exc, (CameraModelError, MetricsError)):
            return _error(422, str(exc))
        LOG.warning("request failed: %s", exc)
        return _error(500, f"the model failed on this image: {exc}")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error in %s", request.url.path)
        return _error(500, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:300])

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html")

    @app.get("/api/models")
    def list_models() -> list[dict[str, Any]]:
        return [m.describe() for m in models.values()]

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """The icon browsers ask for: the inferno_r ramp as a 32 x 32 PNG (served here, so never a 404)."""
        import numpy as np

        ramp = np.tile(np.linspace(0.0, 1.0, 32, dtype=np.float32), (32, 1))
        return Response(inference.png_bytes(colorize_depth(ramp, 0.0, 1.0)), media_type="image/png")

    @app.get("/api/colorbar.png", include_in_schema=False)
    def colorbar() -> Response:
        """256 x 1 pixels of inferno_r, near (left) to far (right): the page draws its colour bars with it."""
        import numpy as np

        ramp = np.linspace(0.0, 1.0, 256, dtype=np.float32)[None, :]
        return Response(inference.png_bytes(colorize_depth(ramp, 0.0, 1.0)), media_type="image/png")

    @app.post("/api/predict")
    def predict(
        image: Annotated[UploadFile, File()],
        gt: Annotated[UploadFile | None, File()] = None,
        model: Annotated[str | None, Form()] = None,
        fx: Annotated[str | None, Form()] = None,
        hfov_deg: Annotated[str | None, Form()] = None,
        depth_scale: Annotated[str | None, Form()] = None,
    ) -> JSONResponse:
        name = model or next(iter(models))
        served = models.get(name)
        if served is None:
            raise UnknownModelError(f"unknown model {name[:80]!r}; this server offers {sorted(models)}")
        focal, hfov = inference.parse_focal({"fx": fx, "hfov_deg": hfov_deg})
        scale = inference.parse_depth_scale(depth_scale)
        limit = opts.max_body_bytes
        rgb = inference.decode_image(_read_upload(image, limit, "image"), opts.max_pixels)
        depth_gt = None
        if gt is not None and (gt.size or gt.filename):
            depth_gt = inference.decode_ground_truth(_read_upload(gt, limit, "ground-truth"), opts.max_pixels, scale)
        result = inference.predict_response(
            served, rgb, depth_gt, fx=focal, hfov_deg=hfov, gt_range=(opts.gt_min_depth, opts.gt_max_depth)
        )
        # Plain JSON types already: a JSONResponse skips FastAPI's walk over megabytes of base64 text.
        return JSONResponse(result)

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
