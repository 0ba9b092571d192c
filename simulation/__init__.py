"""The simulator as a ROS 2 graph: the shipped nodes drive the simulated robot over the real middleware.

``depth-node sim --ros`` runs the scenarios of :mod:`evaluation.scenarios` with ``depth_node`` and
``obstacle_avoidance`` started as processes from their console scripts. Only the node modules
(:mod:`simulation.sim_node`, :mod:`simulation.runner_node`) import rclpy; the rest (parameter files,
processes) imports and tests without ROS.
"""
