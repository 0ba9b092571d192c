"""The simulator as a ROS 2 graph: the shipped nodes drive the simulated robot over the real middleware.

``depth-node sim --ros`` runs the scenarios of :mod:`depth_node.evaluation.scenarios` with ``depth_node`` and
``obstacle_avoidance`` started as processes from their console scripts. Only the node modules
(:mod:`~depth_node.simulation.sim_node`, :mod:`~depth_node.simulation.runner_node`) import rclpy; the rest
(parameter files, processes) imports and tests without ROS.
"""
