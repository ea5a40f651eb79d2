"""Reproducing the paper's tables: the rows and their published numbers (``tables``), a row's
training and evaluation (``rows``), the tiny smoke variant (``smoke``) and the results files
(``results``). ``tools/reproduce.py`` is the command line."""
