"""Segmentation metrics: pure functions and accumulators."""
from humanseg.metrics.connectivity import ConnectivityMetric, compute_connectivity
from humanseg.metrics.iou import IoUMetric, confusion_matrix, metrics_from_confusion

__all__ = ["ConnectivityMetric", "IoUMetric", "compute_connectivity", "confusion_matrix",
           "metrics_from_confusion"]
