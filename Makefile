# One-command entry points; every target sets up its own .venv first (idempotent).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.runtime

.PHONY: setup test lint demo replay-demo bench clean

SHARED_ROS2 := ../shared/ros2
# vision_msgs and tf2_msgs are on no registry: built with the rosidl generators into the venv (about a minute
# each; cmake and g++ needed), unless an earlier set-up already did.
BUILD_INTERFACES := $(PY) -c "import vision_msgs.msg, tf2_msgs.msg" 2>/dev/null || \
	$(PY) tools/ros_interfaces.py vision_msgs tf2_msgs > $(VENV)/ros_interfaces.log

# torch is pinned: an unpinned torch pulls gigabytes of CUDA packages on a CPU machine.
# The ROS 2 Jazzy runtime comes from PyPI (extra "ros"); vision_msgs is on no registry, so it is built from
# depth_node/msgs/vision_defs.py with the rosidl generators (extra "ros-build") into the venv. Ray (extra "ray")
# for the test of sim/evaluate --ray on a local instance. Where the launch
# sources are beside the project (../shared/ros2), launch and launch_ros are installed for the launch tests.
$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test,train,ros,ros-build,ray]"
	# Depth Anything 3's model code for the export tests; its declared requirements (open3d, xformers, a CUDA
	# torch...) are not needed to build the network, so not installed (its model deps are in the test extra).
	$(PY) -m pip install --quiet --no-deps depth-anything-3==0.1.1
	$(BUILD_INTERFACES)
	if [ -d $(SHARED_ROS2) ]; then \
	  $(PY) -m pip install --quiet --no-deps $(SHARED_ROS2)/launch $(SHARED_ROS2)/launch_ros && \
	  $(PY) -m pip install --quiet osrf-pycommon lark packaging && \
	  $(PY) tools/ros_interfaces.py $(SHARED_ROS2)/composition_interfaces >> $(VENV)/ros_interfaces.log; \
	fi
	touch $(STAMP)

setup: $(STAMP)

# The runtime (no torch, no test tools) and the ROS 2 runtime from PyPI: what demo, replay-demo and bench need
# (the demo drives the simulated robot through the live graph of the shipped nodes).
$(RUNTIME_STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[ros,ros-build]"
	$(BUILD_INTERFACES)
	touch $(RUNTIME_STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The test command of the README and of CI.
test: lint
	$(PY) -m pytest -q

# The main job: drive the simulated robot through every scenario (2 seeds) on the shipped model (or MODEL=path),
# with depth_node and obstacle_avoidance running as ROS 2 processes over DDS in lockstep with the simulator;
# report in out/sim/report.html, bags of the failed runs only (BAGS=all records every run).
demo: $(RUNTIME_STAMP)
	$(VENV)/bin/depth-node sim --suite default --seeds 2 --ros --out out/sim --overwrite --bags $(or $(BAGS),failed) $(if $(MODEL),--model $(MODEL))

replay-demo: $(RUNTIME_STAMP)
	$(PY) -m depth_node.evaluation.demo --out out/demo $(if $(MODEL),--model $(MODEL))

bench: $(RUNTIME_STAMP)
	$(VENV)/bin/depth-node bench

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .mypy_cache .ruff_cache
