"""Segmentation metrics: pure functions and accumulators."""
from humanseg.metrics.boundary import BoundaryFMetric, boundary_counts
from humanseg.metrics.connectivity import ConnectivityMetric, compute_connectivity
from humanseg.metrics.flicker import FlickerMetric, compute_flicker, flicker_pair
from humanseg.metrics.iou import IoUMetric, confusion_matrix, metrics_from_confusion

__all__ = ["BoundaryFMetric", "boundary_counts",
           "ConnectivityMetric", "FlickerMetric", "IoUMetric", "compute_connectivity", "compute_flicker",
           "confusion_matrix", "flicker_pair", "metrics_from_confusion"]
