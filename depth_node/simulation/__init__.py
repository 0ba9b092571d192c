"""The closed-loop simulator: a scenario's world and robot driving the shipped nodes, in process or as a ROS graph.

One stepper (:mod:`~depth_node.simulation.stepper`) moves one plant (:mod:`~depth_node.simulation.plant`: the world,
camera, detector and robot base) set up by one :mod:`~depth_node.simulation.options`, and ends each run through
:mod:`~depth_node.simulation.result`; only the link to the nodes differs. In process
(:mod:`~depth_node.simulation.in_process`) the cores are called directly; with ``depth-node sim --ros`` the scenarios
of :mod:`depth_node.evaluation.scenarios` run with ``depth_node`` and ``obstacle_avoidance`` started as processes
from their console scripts. Only the node modules (:mod:`~depth_node.simulation.sim_node`,
:mod:`~depth_node.simulation.runner_node`) import rclpy; the rest (the in-process run, parameter files, processes)
imports and tests without ROS.
"""
