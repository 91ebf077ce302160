"""Export fastanpr's licence-plate YOLOv8n to ONNX (run once, offline).

fastanpr 0.1.13 (AGPL-3.0) ships ``fastanpr/best.pt``: a one-class YOLOv8n
trained on Roboflow Universe's "License Plate Recognition" dataset. The export
needs torch, so it runs in a throwaway venv; the app only needs the ONNX file.

    python -m venv /tmp/export
    /tmp/export/bin/pip install torch==2.14.1 torchvision==0.29.1 ultralytics==8.4.190 onnx==1.23.2 onnxslim==0.1.98
    pip download --no-deps fastanpr==0.1.13 && unzip fastanpr-0.1.13-py3-none-any.whl fastanpr/best.pt
    YOLO_OFFLINE=1 /tmp/export/bin/python export_plate_yolov8n.py fastanpr/best.pt ../license_plate_yolov8n.onnx

The input is dynamic (1×3×H×W, H and W multiples of 32) so that tiles and
other input sizes can be chosen at run time; the output is 1×5×N
(cx, cy, w, h, plate score) before NMS.
"""

import shutil
import sys

from ultralytics import YOLO


def export(source: str, target: str) -> None:
    onnx_path = YOLO(source).export(format="onnx", dynamic=True, simplify=True, opset=17)
    shutil.copyfile(onnx_path, target)


if __name__ == "__main__":
    export(sys.argv[1], sys.argv[2])
