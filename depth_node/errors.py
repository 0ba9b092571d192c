"""Exception families of the perception core.

Each failure family has its own type so that a shell can count skipped frames by reason
(:attr:`DepthNodeError.reason`) and report them, instead of parsing messages.
"""


class DepthNodeError(Exception):
    """Base of every error this package raises on purpose."""

    reason = "error"


class ImageDecodeError(DepthNodeError):
    """An image message whose sizes, encoding or bytes cannot be turned into an array."""

    reason = "bad_image"


class UnsupportedEncodingError(ImageDecodeError):
    """An image encoding (or compressed format) this package does not convert."""

    reason = "unsupported_encoding"


class ImageTooLargeError(ImageDecodeError):
    """An image whose stated size is over the pixel limit: refused before anything that size is allocated."""

    reason = "image_too_large"


class CameraModelError(DepthNodeError):
    """A CameraInfo that cannot describe a pinhole camera (zero or non-finite focal length...)."""

    reason = "bad_camera_info"


class ModelError(DepthNodeError):
    """A depth model that cannot be loaded or run, or whose spec is inconsistent."""

    reason = "model_error"


class ProviderUnavailableError(ModelError):
    """None of the requested ONNX Runtime execution providers is available here."""

    reason = "provider_unavailable"


class ParameterError(DepthNodeError, ValueError):
    """A parameter (YAML, CLI or ROS) with a missing, unknown or out-of-range value."""

    reason = "bad_parameter"


class BagError(DepthNodeError):
    """A path that is not a readable ROS 2 bag, or a bag without the topics asked for."""

    reason = "bad_bag"


class DetectorError(ModelError):
    """An object detector whose output matches no known layout, or whose labels do not fit it."""

    reason = "detector_error"
