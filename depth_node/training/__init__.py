"""Training of depth networks (torch): datasets, augmentations, networks, losses, the train loop and export.

Only this package (and the ``train``/``export``/``eval`` commands, inside their ``run``) imports torch, so the
perception core runs without it. Nothing here downloads anything: encoders train from scratch or from a local
checkpoint file.
"""
