"""A model trained on Roboflow, called through the official ``roboflow`` SDK.

    rf = Roboflow(api_key=KEY); model = rf.workspace(WS).project(P).version(N).model
    model.predict(image, confidence=40, overlap=30).json()

The SDK reads its server addresses from the environment variables ``API_URL``
and ``OBJECT_DETECTION_URL`` once, when it is first imported.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import numpy as np

from anonymize.detections import Predictions
from anonymize.detectors.base import DetectorDefaults, DetectorInfo
from anonymize.detectors.remote import DEFAULT_TIMEOUT, parse_predictions, remote_call
from anonymize.errors import DetectionError, MissingSettings

SERVICE = "Roboflow"


class RoboflowHostedDetector(DetectorDefaults):
    """Runs version ``version`` of Roboflow project ``project`` on Roboflow's servers.

    Connecting checks the key, the workspace, the project and the version
    (each failure is one plain sentence) and learns the model's classes and
    ``details``: what Roboflow reports about the version (training set, metrics).
    """

    offline = False

    def __init__(
        self, api_key: str, project: str, version: int, workspace: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        if not api_key:
            raise MissingSettings("Roboflow hosted model", ("API key",))
        self._key, self.timeout = api_key, timeout
        self.project, self.version, self.workspace = project, version, workspace
        self._model, classes, self.details = remote_call(self._connect, SERVICE, timeout, api_key)
        self.classes: tuple[str, ...] = tuple(classes)

    def _connect(self) -> tuple[Any, list[str], dict[str, str]]:
        project = open_project(self._key, self.workspace, self.project)
        try:
            version = project.version(self.version)
        except (RuntimeError, KeyError):
            raise DetectionError(f"Version {self.version} not found in project {self.project!r}.") from None
        with warnings.catch_warnings():
            # roboflow 1.7 deprecates .model for .models(); .model is still the documented predict path.
            warnings.simplefilter("ignore", DeprecationWarning)
            model = version.model
        if model is None:
            raise DetectionError(f"Version {self.version} of {self.project!r} has no trained model to run.")
        listed = [
            v for v in project.get_version_information() if str(v.get("id", "")).rsplit("/", 1)[-1] == str(self.version)
        ]
        return model, list(project.classes), model_details(project.classes, version, listed[0] if listed else {})

    def info(self) -> DetectorInfo:
        return DetectorInfo(details=self.details)

    def detect(self, image: np.ndarray, *, confidence: float, overlap: float) -> Predictions:
        height, width = image.shape[:2]
        bgr = np.ascontiguousarray(image[..., ::-1])  # the SDK encodes arrays with OpenCV, which expects BGR
        # A copy per call: the SDK keeps each request's URL on the model object.
        model = copy.copy(self._model)
        group = remote_call(
            lambda: model.predict(bgr, confidence=round(confidence * 100), overlap=round(overlap * 100)),
            SERVICE,
            self.timeout,
            self._key,
        )
        try:
            sdk_json = group.json()
        except Exception:  # the SDK builds its objects from the answer as it came
            problem = DetectionError(f"{SERVICE} sent predictions that cannot be read; the picture was not anonymized.")
        else:
            return parse_predictions(response_json(sdk_json, width, height), SERVICE)
        raise problem

    def __repr__(self) -> str:  # never the key
        return f"RoboflowHostedDetector(project={self.project!r}, version={self.version})"


def open_project(api_key: str, workspace: str | None, project: str) -> Any:
    """The SDK's project ``project`` of ``workspace`` (None: the key's own); DetectionError, one sentence, when it cannot be opened.

    Call it within a deadline (:func:`~anonymize.detectors.remote.remote_call`): the SDK sets none.
    """
    from roboflow import Roboflow
    from roboflow.adapters.rfapi import RoboflowError

    try:
        rf = Roboflow(api_key=api_key)
    except RuntimeError:
        raise DetectionError("API key rejected by Roboflow.") from None
    try:
        opened = rf.workspace(workspace)
    except (RoboflowError, KeyError):
        raise DetectionError(f"Workspace {workspace!r} not found, or this key cannot open it.") from None
    try:
        return opened.project(project)
    except (RoboflowError, RuntimeError, KeyError):
        raise DetectionError(f"Project {project!r} not found in workspace {opened.url!r}.") from None


def model_details(classes, version, listed: dict[str, Any]) -> dict[str, str]:
    """What Roboflow reports about a version, for people: its classes, training set and metrics (those it gives).

    >>> model_details({"face": 3}, None, {"images": 10, "splits": {"train": 7, "valid": 2, "test": 1}, "model": {"map": "91.5"}})
    {'Classes': 'face', 'Images in the version': '10 (train 7 · valid 2 · test 1)', 'mAP@50': '91.5 %'}
    """
    # Only informative: a field missing or malformed in Roboflow's answer is left out, never stops the model.
    details = {"Classes": ", ".join(classes) or "none listed"}
    images, splits = listed.get("images", getattr(version, "images", None)), listed.get("splits")
    if isinstance(images, int):
        counts = splits.items() if isinstance(splits, dict) else ()
        split_text = " · ".join(f"{name} {count}" for name, count in counts if isinstance(count, int))
        details["Images in the version"] = f"{images}" + (f" ({split_text})" if split_text else "")
    trained = listed.get("model") if isinstance(listed.get("model"), dict) else {}
    for key, label in (("map", "mAP@50"), ("precision", "Precision"), ("recall", "Recall")):
        try:
            value = float(trained[key])
        except (KeyError, TypeError, ValueError):
            continue  # not reported for this version
        if math.isfinite(value):
            details[label] = f"{value:.1f} %"
    return details


def response_json(sdk_json: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    """The SDK's ``pred.json()`` made JSON-safe: it echoes the input array into every
    prediction (``image_path``) and reports the size of array inputs as ``"0"``."""
    predictions = [
        {k: v for k, v in p.items() if k != "image_path"} if isinstance(p, dict) else p
        for p in sdk_json.get("predictions", [])
    ]
    return {"predictions": predictions, "image": {"width": width, "height": height}}
