"""Build script: one file serves colcon (ament_python) and pip alike."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "depth_node"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Monocular metric depth, point clouds and obstacle avoidance for ROS 2",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(
        include=["depth_node", "depth_node.*", "navigation", "navigation.*", "evaluation", "evaluation.*"]
    ),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        (f"share/{PACKAGE}/models", glob("models/*.onnx") + glob("models/*.md")),
    ],
    package_data={PACKAGE: ["py.typed"]},
    install_requires=[
        "numpy>=1.23",
        "opencv-python-headless>=4.6",
        "onnxruntime>=1.16",
        "simple-pid>=2.0",
        "rosbags>=0.10",
        "PyYAML>=6",
        "tqdm>=4.60",
        "matplotlib>=3.6",  # report.html figures (Agg backend, no display)
    ],
    extras_require={
        # torch is pinned: an unpinned torch pulls gigabytes of CUDA packages on CPU machines.
        "train": ["torch==2.13.0", "onnx>=1.15", "h5py>=3.8"],
        "gpu": ["onnxruntime-gpu>=1.16"],
        "test": [
            "pytest>=7",
            "pytest-benchmark>=4",
            "hypothesis>=6.100",
            "onnx>=1.15",
            "ruff>=0.5",
            "mypy>=1.8",
            "types-PyYAML",
        ],
    },
    zip_safe=True,
    entry_points={
        "console_scripts": [
            "depth_node = depth_node.node:main",
            "obstacle_avoidance = navigation.node:main",
            "depth-node = depth_node.cli:main",
        ],
    },
)
