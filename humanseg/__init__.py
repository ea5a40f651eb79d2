"""humanseg: config-driven segmentation training on PaddlePaddle (PP-HumanSeg, SC loss)."""
__version__ = "0.1.0"
