"""Find faces and licence plates in pictures and hide them.

The library has no Streamlit in it: the app, the CLI and the benchmarks all
call the same functions.

Example:
    >>> from anonymize import Settings, anonymize_image, load_image, local_detector
    >>> # result = anonymize_image(load_image("photo.jpg").pixels, local_detector(), Settings())
"""

__version__ = "0.2.0"

import os

# onnxruntime's Linux wheels send usage telemetry to Microsoft (mobile.events.data.microsoft.com)
# unless this is set before its first session; no request may leave the machine unless the user
# configured a host, so it is set here, before any module of ours imports onnxruntime.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from anonymize.censor import CensorSettings, censor
from anonymize.detections import Detection, Predictions
from anonymize.detectors import Detector, local_detector
from anonymize.errors import AnonymizeError, DetectionError, MediaError, OutputError
from anonymize.media import LoadedImage, encode_image, load_image, save_image
from anonymize.pipeline import anonymize_image
from anonymize.result import Result
from anonymize.settings import Settings

__all__ = [
    "__version__",
    "AnonymizeError",
    "CensorSettings",
    "Detection",
    "DetectionError",
    "Detector",
    "LoadedImage",
    "MediaError",
    "OutputError",
    "Predictions",
    "Result",
    "Settings",
    "anonymize_image",
    "censor",
    "encode_image",
    "load_image",
    "local_detector",
    "save_image",
]
