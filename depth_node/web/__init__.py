"""``depth-node serve``: a local web page and JSON API for the depth of single images.

:mod:`.registry` finds and loads the models, :mod:`.inference` turns one upload into the response (no
web framework in it), :mod:`.app` is the FastAPI shell, ``static/`` the page (hand-written, no script or
stylesheet from the internet).
"""
