"""Shared fixtures: real ROS 2 message classes (rosbags typestore) and tiny ONNX models made here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from depth_node.camera import CameraModel
from depth_node.msgs import MessageSet
from tests.onnx_models import plain_spec, write_affine_model

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def messages() -> MessageSet:
    """rosbags classes of ROS 2 Humble: real definitions, real CDR."""
    return MessageSet.from_rosbags()


@pytest.fixture(scope="session")
def typestore(messages: MessageSet) -> Any:
    return messages.typestore


@pytest.fixture
def camera() -> CameraModel:
    """A 64x48 camera with an off-centre principal point (so x/y mix-ups show)."""
    return CameraModel(width=64, height=48, fx=50.0, fy=55.0, cx=30.0, cy=20.0)


@pytest.fixture(scope="session")
def metric_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Metric model: depth = 4 * red / 255 + 1 metres, fixed input 48x64, no focal rescale."""
    return write_affine_model(tmp_path_factory.mktemp("models") / "metric.onnx", plain_spec())


@pytest.fixture(scope="session")
def vision_msg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of vision_msgs 4.x ``.msg`` files (what ``--msg-dir`` takes), written from the built-in
    field lists: the tests of ``--msg-dir`` need nothing from ../shared. ``tests/navigation/test_nav_msgs.py``
    checks those lists against the upstream files when ../shared has them."""
    from depth_node.msgs.vision_defs import DEFINITIONS

    path = tmp_path_factory.mktemp("vision_msgs")
    for name, text in DEFINITIONS.items():
        (path / f"{name}.msg").write_text(text, encoding="utf-8")
    return path


def roundtrip(typestore: Any, msg: Any) -> Any:
    """Serialise to CDR and back, as a message crossing the wire or a bag does."""
    return typestore.deserialize_cdr(typestore.serialize_cdr(msg, msg.__msgtype__), msg.__msgtype__)
