"""Several detectors run as one, at the same time."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from anonymize.detections import Predictions
from anonymize.detectors.base import Detector, DetectorInfo, run_in_background
from anonymize.devices import Device


class CombinedDetector:
    """Runs each detector on the same image and returns all their detections.

    Example:
        >>> from anonymize.detectors.centerface import CenterFaceDetector
        >>> from anonymize.detectors.plates import PlateDetector
        >>> CombinedDetector(CenterFaceDetector(), PlateDetector()).classes
        ('face', 'license-plate')
    """

    def __init__(self, *detectors: Detector, device: Device | None = None) -> None:
        self.detectors = detectors
        self.classes = tuple(name for d in detectors for name in d.classes)
        self.offline = all(d.offline for d in detectors)
        #: Where its models run, when they run here (:func:`anonymize.detectors.local_detector` says).
        self.device = device
        # onnxruntime releases the GIL: the models really run side by side, one core each.
        self._pool = ThreadPoolExecutor(max_workers=len(detectors), thread_name_prefix="detector")
        self._background: CombinedDetector | None = None
        self._lock = threading.Lock()

    def info(self) -> DetectorInfo:
        """Its detectors' model files, each once, and the device they run on."""
        files = tuple(dict.fromkeys(name for d in self.detectors for name in d.info().model_files))
        return DetectorInfo(files, self.device)

    def in_background(self) -> CombinedDetector:
        """The same models (and sessions), run by threads at background priority
        (:func:`~anonymize.detectors.base.run_in_background`): for the webcam, whose frames come first.
        Batch and video keep the normal priority, so other work on the machine does not starve them."""
        with self._lock:
            if self._background is None:
                twin = copy.copy(self)
                twin._pool = ThreadPoolExecutor(
                    max_workers=len(self.detectors),
                    thread_name_prefix="detector-background",
                    initializer=run_in_background,
                )
                twin._background, twin._lock = twin, threading.Lock()
                self._background = twin
            return self._background

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        runs = [self._pool.submit(d.detect, image, confidence=confidence, overlap=overlap) for d in self.detectors]
        found = [run.result() for run in runs]
        height, width = image.shape[:2]
        return Predictions.concatenate(found, width, height)
