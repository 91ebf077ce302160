"""Detection backends behind one interface, :class:`Detector`."""

from anonymize.detectors.base import Detector
from anonymize.detectors.centerface import CenterFaceDetector
from anonymize.detectors.combined import CombinedDetector
from anonymize.detectors.plates import PlateDetector


def local_detector() -> CombinedDetector:
    """The offline default: CenterFace for faces and YOLOv8n for licence plates."""
    return CombinedDetector(CenterFaceDetector(), PlateDetector())


__all__ = ["Detector", "CenterFaceDetector", "PlateDetector", "CombinedDetector", "local_detector"]
