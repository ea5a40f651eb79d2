"""Export trained models for deployment: the Paddle 3 inference model (model.json +
model.pdiparams), an optional ONNX model checked with onnxruntime, and deploy.yaml (the
preprocessing and output contract that deploy/python reads)."""
from humanseg.export.deploy_config import DEPLOY_TRANSFORMS, deploy_transforms
from humanseg.export.exporter import OUTPUT_OPS, InferenceHead, parse_input_shape
from humanseg.export.onnx_export import onnx_available
from humanseg.export.run import ExportResult, export_model

__all__ = ["DEPLOY_TRANSFORMS", "OUTPUT_OPS", "ExportResult", "InferenceHead", "deploy_transforms",
           "export_model", "onnx_available", "parse_input_shape"]
