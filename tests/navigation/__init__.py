"""Tests of the navigation core (ROS-free)."""
