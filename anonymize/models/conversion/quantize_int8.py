"""Quantize both models to int8 (static, per-channel, QDQ) for the fast and balanced presets.

    /tmp/export/bin/pip install onnx==1.23.2 onnxruntime==1.32.0 opencv-python-headless pillow
    /tmp/export/bin/python quantize_int8.py ../../.. ../../../../shared/datasets/plates_dev/images

The last layers stay in float. CenterFace's output convolutions are tiny, so
quantizing them only loses accuracy. YOLOv8's head mixes pixel coordinates with
0–1 scores in one tensor: its final 1×1 convolutions, the distribution focal
loss (DFL) decoding and everything after stay float, while the head's 3×3
convolutions (a third of the float model's time at 1280 px) are quantized.
CenterFace (opset 9) is first converted to opset 13, which per-channel
quantization needs.

CenterFace's activation ranges are the 99.99th percentile of what calibration
saw, not the extremes: a few large activations otherwise stretch the 256 levels
so far that a faint face's signal falls between them (scored lower, and less
steadily, than by the float model). On faces_dev the percentile halved the
error of faint faces' scores and kept every face the float model scores 5 % or
more (models/README.md).

Calibration: CenterFace on the bundled ``samples/`` pictures, each resized to
960×640 (the percentile's histograms need one shape); the plate model on 80
dashcam frames of plates_dev (MIT, every 3rd frame) letterboxed to 1280 px.
Never on faces_dev (its licence allows evaluation only). The plate figures in
models/README.md are also given for the plates_dev frames that calibration did
not see.
"""

import math
import sys
import tempfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

MODELS = Path(__file__).resolve().parent.parent


class Feed(CalibrationDataReader):
    def __init__(self, name: str, blobs: list[np.ndarray]) -> None:
        self.batches = iter({name: b} for b in blobs)

    def get_next(self):
        return next(self.batches, None)


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


CENTERFACE_CALIBRATION_SIZE = (960, 640)
CENTERFACE_PERCENTILE = 99.99


def centerface_blob(pixels: np.ndarray) -> np.ndarray:
    return cv2.resize(pixels, CENTERFACE_CALIBRATION_SIZE).transpose(2, 0, 1)[None].astype(np.float32)


def plate_blob(pixels: np.ndarray, size: int = 1280) -> np.ndarray:
    h, w = pixels.shape[:2]
    ratio = size / max(h, w)
    new_w, new_h = round(w * ratio), round(h * ratio)
    canvas = np.full((math.ceil(new_h / 32) * 32, math.ceil(new_w / 32) * 32, 3), 114, np.uint8)
    top, left = (canvas.shape[0] - new_h) // 2, (canvas.shape[1] - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(pixels, (new_w, new_h))
    return canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0


def quantize(
    source: Path,
    target: Path,
    feed: Feed,
    keep_float: Callable[[str], bool],
    opset: int | None = None,
    percentile: float | None = None,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        model = onnx.load(source)
        for i, node in enumerate(model.graph.node):
            node.name = node.name or f"node{i}"  # nodes_to_exclude needs names
        if opset:
            model = version_converter.convert_version(model, opset)
        named, prepared = Path(folder) / "named.onnx", Path(folder) / "prepared.onnx"
        onnx.save(model, named)
        quant_pre_process(str(named), str(prepared), skip_symbolic_shape=True)
        excluded = [n.name for n in onnx.load(prepared).graph.node if keep_float(n.name)]
        quantize_static(
            str(prepared),
            str(target),
            feed,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=CalibrationMethod.Percentile if percentile else CalibrationMethod.MinMax,
            extra_options={"CalibPercentile": percentile} if percentile else {},
        )


def centerface_head(model_path: Path) -> Callable[[str], bool]:
    """The four output nodes and the convolutions that feed them."""
    model = onnx.load(model_path)
    for i, node in enumerate(model.graph.node):
        node.name = node.name or f"node{i}"
    outputs = {o.name for o in model.graph.output}
    producers = {o: n for n in model.graph.node for o in n.output}
    last = [n for n in model.graph.node if set(n.output) & outputs]
    head = {n.name for n in last} | {producers[i].name for n in last for i in n.input if i in producers}
    return head.__contains__


def yolo_head(name: str) -> bool:
    """Head nodes (``/model.22/``) but its 3×3 convolutions ``cv2.i.0``, ``cv2.i.1``, ``cv3.i.0``, ``cv3.i.1``."""
    quantized = tuple(
        f"/model.22/cv{branch}.{i}/cv{branch}.{i}.{j}/" for branch in (2, 3) for i in range(3) for j in (0, 1)
    )
    return name.startswith("/model.22/") and not name.startswith(quantized)


if __name__ == "__main__":
    project, plate_frames = Path(sys.argv[1]), Path(sys.argv[2])
    faces = [centerface_blob(rgb(p)) for p in sorted((project / "samples").glob("*.jpg"))]
    quantize(
        MODELS / "centerface.onnx",
        MODELS / "centerface_int8.onnx",
        Feed("input.1", faces),
        centerface_head(MODELS / "centerface.onnx"),
        opset=13,
        percentile=CENTERFACE_PERCENTILE,
    )
    plates = [plate_blob(rgb(p)) for p in sorted(plate_frames.glob("*.jpg"))[::3][:80]]
    quantize(
        MODELS / "license_plate_yolov8n.onnx",
        MODELS / "license_plate_yolov8n_int8.onnx",
        Feed("images", plates),
        yolo_head,
    )
