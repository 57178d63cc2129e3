"""pycnn.onnx: ONNX interchange. ``export`` writes a traced model as an ONNX graph (docs/onnx.md);
``load`` reads an ONNX CNN back as a trainable ``OnnxModule``. Both need the optional onnx package."""

from ._export import export
from ._import import OnnxModule, load

__all__ = ["OnnxModule", "export", "load"]
