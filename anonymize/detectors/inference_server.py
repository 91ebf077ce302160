"""A self-hosted Roboflow Inference server, spoken to over its HTTP API.

Start one with ``pip install inference-cli && inference server start`` (it
listens on http://localhost:9001), or run several behind a load balancer.

We call its documented v1 route with ``requests`` rather than through
``inference-sdk``: inference-sdk 1.8.3 pins pillow<13 and numpy<2.4 and
pulls ``opencv-python``, a second OpenCV that would overwrite the
``opencv-python-headless`` that ``roboflow`` needs. The request is the one
inference-sdk sends:

    POST {api_url}/infer/object_detection
    {"model_id": "project/3", "image": {"type": "base64", "value": <JPEG>},
     "confidence": 0.4, "iou_threshold": 0.3, "api_key": KEY}

The key travels in the JSON body, never in a URL that could be logged.
"""

from __future__ import annotations

import base64

import numpy as np
import requests

from anonymize.detections import Predictions
from anonymize.detectors.base import DetectorDefaults
from anonymize.detectors.remote import DEFAULT_TIMEOUT, parse_predictions, remote_call, status_sentence
from anonymize.errors import DetectionError
from anonymize.media import encode_image

SERVICE = "the Inference server"


class InferenceServerDetector(DetectorDefaults):
    """Runs ``model_id`` ("project/version") on the Inference server at ``api_url``.

    Connecting asks the server to load the model, so a wrong address, key or
    model id is reported at once. The model's classes are not announced by the
    server, so ``classes`` is empty: every class it returns can be hidden.
    """

    classes: tuple[str, ...] = ()
    offline = False

    def __init__(self, api_url: str, model_id: str, api_key: str = "", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.api_url, self.model_id, self.timeout = api_url.rstrip("/"), model_id, timeout
        self._key = api_key
        self._session = requests.Session()
        self._post("/model/add", {"model_id": model_id, "api_key": api_key})

    @property
    def _service(self) -> str:
        return f"{SERVICE} at {self.api_url}"

    def _post(self, route: str, payload: dict) -> object:
        # requests' timeout is per socket read; remote_call makes it one deadline for the whole answer.
        response = remote_call(
            lambda: self._session.post(self.api_url + route, json=payload, timeout=self.timeout),
            self._service,
            self.timeout,
            self._key,
        )
        if response.status_code >= 400:
            raise DetectionError(status_sentence(response.status_code, self._service))
        try:
            return response.json()
        except ValueError:
            problem = DetectionError(f"{self._service} sent an answer that is not JSON.")
        raise problem

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        jpeg = base64.b64encode(encode_image(image, "jpeg", quality=90)).decode("ascii")
        raw = self._post(
            "/infer/object_detection",
            {
                "model_id": self.model_id,
                "image": {"type": "base64", "value": jpeg},
                "confidence": confidence,
                "iou_threshold": overlap,
                "api_key": self._key,
            },
        )
        return parse_predictions(raw, self._service)

    def __repr__(self) -> str:  # never the key
        return f"InferenceServerDetector(api_url={self.api_url!r}, model_id={self.model_id!r})"
