"""Segmentation metrics: pure functions and accumulators."""
from humanseg.metrics.connectivity import ConnectivityMetric, connectivity
from humanseg.metrics.iou import IoUMetric, confusion_matrix, metrics_from_confusion

__all__ = ["ConnectivityMetric", "IoUMetric", "connectivity", "confusion_matrix", "metrics_from_confusion"]
