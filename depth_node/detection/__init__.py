"""Object detection core (no ROS): YOLO-family ONNX detectors -> boxes in the input image's pixels.

``layouts`` decodes each supported export format, ``letterbox`` maps between image and network pixels,
``nms`` keeps the best box per object, ``labels`` names the classes, and ``detector`` ties them to an
ONNX Runtime session opened the same way as the depth estimator's.
"""
