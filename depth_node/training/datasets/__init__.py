"""Depth datasets: the procedural world, NYU Depth V2 (labeled .mat, DenseDepth CSV + PNG) and KITTI depth.

Every dataset yields ``(image, depth)``: a normalised float32 tensor (3, H, W) and a float32 tensor (1, H, W) in
metres with 0 where the ground truth is unknown.
"""
