"""What the training scripts share: the ONNX conversion of a forest, drift baselines, and the
libraries a model was made with (for its manifest)."""

from __future__ import annotations

import platform

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from onnx import helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

CLIP = 1e12
OPSET = {"": 17, "ai.onnx.ml": 3}
IR_VERSION = 8


def forest_to_onnx(forest, input_name: str, width: int) -> onnx.ModelProto:
    """A fitted scikit-learn classifier as ONNX: input `input_name` float32 [N, width],
    outputs `label` and `probabilities` (no ZipMap), one opset import per domain."""
    model = convert_sklearn(
        forest,
        initial_types=[(input_name, FloatTensorType([None, width]))],
        options={id(forest): {"zipmap": False}},
        target_opset=OPSET,
    )
    model.ir_version = IR_VERSION
    # skl2onnx lists the default domain twice: one import per domain, sorted.
    used = {o.domain: o.version for o in model.opset_import}
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in sorted(used.items()))
    return model


def libraries() -> dict:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
    }


def drift_baseline(x: np.ndarray) -> dict:
    """Per feature: decile edges of the training values (NaN as 0, clipped as the graph does)
    and the share of training rows in each bin (`edges` cut the line into len(edges)+1 bins;
    a value v falls in the first bin whose upper edge is >= v)."""
    v = np.clip(np.nan_to_num(x, nan=0.0, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
    edges, shares = [], []
    for j in range(v.shape[1]):
        col = v[:, j]
        e = np.unique(np.quantile(col, np.linspace(0.1, 0.9, 9)))
        bins = np.searchsorted(e, col, side="left")
        counts = np.bincount(bins, minlength=len(e) + 1)
        edges.append([float(t) for t in e])
        shares.append([round(float(c) / len(col), 6) for c in counts])
    return {"method": "population stability index over training deciles", "edges": edges,
            "shares": shares}
