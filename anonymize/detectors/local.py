"""The offline default: CenterFace for faces and YOLOv8n for licence plates, bundled, run by onnxruntime.

Example:
    >>> local_detector().classes
    ('face', 'license-plate')
"""

from __future__ import annotations

from anonymize.detectors.centerface import CenterFaceDetector
from anonymize.detectors.combined import CombinedDetector
from anonymize.detectors.plates import PlateDetector
from anonymize.detectors.text import TextDetector
from anonymize.devices import CPU_PROVIDER, Device
from anonymize.personal_text import PersonalText
from anonymize.presets import DEFAULT_PRESET, PRESETS

#: The device of :func:`local_detector` when none is given: the CPU, the same everywhere.
CPU = Device("cpu", (CPU_PROVIDER,))


def local_detector(
    preset: str = DEFAULT_PRESET, device: Device = CPU, *, text: bool = False, personal: PersonalText | None = None
) -> CombinedDetector:
    """The local models as ``preset`` says, on ``device`` (the float models on a GPU: the int8 ones are for CPUs);
    with ``text``, the text detector too (:mod:`anonymize.detectors.text`: DetectionError without the extra),
    hiding only the lines that match ``personal``'s patterns when it is given."""
    chosen = PRESETS[preset]
    face_passes = tuple((size, int8 and not device.gpu) for size, int8 in chosen.face_passes)
    detectors = [
        CenterFaceDetector(face_passes, providers=device.providers),
        PlateDetector(
            chosen.plate_sizes, chosen.plate_tile, chosen.plate_int8 and not device.gpu, providers=device.providers
        ),
    ]
    if text:
        detectors.append(TextDetector(device.providers, personal, chosen.text_side))
    return CombinedDetector(*detectors, device=device)
