"""The Roboflow backends against the fake server: a picture it answers, and detectors or app pages pointed at it."""

import io

import numpy as np
from PIL import Image

from anonymize.detectors.inference_server import InferenceServerDetector
from anonymize.detectors.roboflow_hosted import RoboflowHostedDetector
from helpers.fake_roboflow import KEY, PROJECT, TRAINED_VERSION, WORKSPACE


def red_box_png() -> bytes:
    pixels = np.full((120, 160, 3), 128, np.uint8)
    pixels[30:90, 40:100] = (255, 0, 0)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def use_remote(at, source, key=KEY, **fields):
    at.selectbox(key="source").set_value(source).run()
    at.text_input(key="project").input(PROJECT)
    at.number_input(key="version").set_value(TRAINED_VERSION)
    for name, value in fields.items():
        at.text_input(key=name).input(value)
    at.text_input(key="api_key").input(key).run()
    return at


def upload_red_box(at):
    at.radio(key="image_source").set_value("Upload").run()
    at.file_uploader[0].set_value(("box.png", red_box_png(), "image/png")).run()
    return at


def hosted(**overrides):
    args = {
        "api_key": KEY,
        "project": PROJECT,
        "version": TRAINED_VERSION,
        "workspace": WORKSPACE,
        "timeout": 5,
        **overrides,
    }
    return RoboflowHostedDetector(**args)


def inference(**overrides):
    args = {
        "api_url": fake_url(),
        "model_id": f"{PROJECT}/{TRAINED_VERSION}",
        "api_key": KEY,
        "timeout": 5,
        **overrides,
    }
    return InferenceServerDetector(**args)


def fake_url():
    from conftest import FAKE_ROBOFLOW

    return FAKE_ROBOFLOW.url
