"""Synthetic data generators: teleconferencing portrait clips in the PP-HumanSeg14K layout
(``humanseg.py``, drawn by ``clip.py`` from ``canvas``, ``scene``, ``person``, ``occluders`` and
``hard``), street scenes in the Cityscapes layout (``cityscapes.py``) and a labelled video made
of portrait clips (``video.py``). ``output.py`` guards their output folders.

Nothing here imports paddle.
"""
