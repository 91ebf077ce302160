"""onnxruntime session options for the two local models, measured on this machine.

    python bench/session_options.py

Times the combined detector (CenterFace and the plate model side by side, as
the pipeline runs them) on the bundled samples under each option set and
prints JSON with the median milliseconds per image.
anonymize/detectors/base.py uses the winner.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import onnxruntime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.detectors import base, local_detector  # noqa: E402
from anonymize.media import load_image  # noqa: E402

OPTION_SETS = {
    "defaults": {},
    "no_spinning": {"session.intra_op.allow_spinning": "0"},
    "one_thread_no_spinning": {"threads": 1, "session.intra_op.allow_spinning": "0"},
    "no_spinning_parallel_execution": {"session.intra_op.allow_spinning": "0", "parallel": True},
}


def session_factory(choice: dict):
    def make(model_file: str) -> onnxruntime.InferenceSession:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if choice.get("threads"):
            options.intra_op_num_threads = choice["threads"]
        if choice.get("parallel"):
            options.execution_mode = onnxruntime.ExecutionMode.ORT_PARALLEL
        for key, value in choice.items():
            if key.startswith("session."):
                options.add_session_config_entry(key, value)
        return onnxruntime.InferenceSession(
            str(base.MODELS_DIR / model_file), options, providers=["CPUExecutionProvider"]
        )

    return make


def main() -> None:
    images = [load_image(p).pixels for p in sorted((ROOT / "samples").glob("*.jpg"))]
    report = {}
    for name, choice in OPTION_SETS.items():
        base.onnx_session.cache_clear()
        original = base.onnx_session
        base.onnx_session = session_factory(choice)  # the detectors look it up when built
        import anonymize.detectors.centerface as centerface
        import anonymize.detectors.plates as plates

        centerface.onnx_session = plates.onnx_session = base.onnx_session
        detector = local_detector()
        times = []
        for _ in range(5):
            for image in images:
                start = time.perf_counter()
                detector.detect(image, confidence=0.1, overlap=0.3)
                times.append(time.perf_counter() - start)
        report[name] = round(statistics.median(times[len(images) :]) * 1000, 1)
        centerface.onnx_session = plates.onnx_session = base.onnx_session = original
    print(json.dumps({"median_ms_per_image_faces_and_plates": report}, indent=2))


if __name__ == "__main__":
    main()
