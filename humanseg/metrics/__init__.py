"""Segmentation metrics: pure functions and accumulators."""
from humanseg.metrics.iou import IoUMetric, confusion_matrix, metrics_from_confusion

__all__ = ["IoUMetric", "confusion_matrix", "metrics_from_confusion"]
