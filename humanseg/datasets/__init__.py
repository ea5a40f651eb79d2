"""Datasets: the file-list Dataset, PP-HumanSeg14K, and loading helpers."""
from humanseg.datasets.dataset import Dataset
from humanseg.datasets.pp_humanseg14k import PPHumanSeg14K

__all__ = ["Dataset", "PPHumanSeg14K"]
