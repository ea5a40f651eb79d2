"""The paired SC-loss study (issue 16, docs/experiments/scl_study.md).

``plan`` says which runs there are (settings, arms, seeds) and writes each run's config;
``frames`` evaluates one run's final weights frame by frame (additive statistics for the
bootstrap); ``jobs`` runs the plan k at a time with one thread each, resumably; ``report``
turns the results into ``scl_study.json`` and the tables of ``scl_study.md``. The command line
is ``tools/experiments/scl_study.py``.
"""
