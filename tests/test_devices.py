"""Where the local models run: provider selection and the fallback, tested here without a GPU.

This machine has no GPU: these tests check which onnxruntime providers are asked for and what is
said; the same code then runs the models on whatever providers onnxruntime accepts.
"""

import json

import pytest

from anonymize.detectors import BackendConfig, describe, local_detector
from anonymize.devices import Device, DeviceError, resolve
from conftest import SAMPLES
from helpers.apptest import open_page
from helpers.cli import run_cli

CPU_ONLY = ["AzureExecutionProvider", "CPUExecutionProvider"]
WITH_GPU = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_auto_takes_the_gpu_when_one_is_offered_and_the_cpu_otherwise():
    assert resolve("auto", WITH_GPU) == Device(
        "cuda", ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
    )
    assert resolve("auto", CPU_ONLY) == Device("cpu", ("CPUExecutionProvider",))
    assert resolve("cpu", WITH_GPU).name == "cpu"


def test_cuda_without_a_gpu_is_one_sentence_naming_what_there_is():
    with pytest.raises(
        DeviceError,
        match=r"No CUDA GPU here: this onnxruntime offers only AzureExecutionProvider, CPUExecutionProvider\. Install the \[gpu\] extra",
    ):
        resolve("cuda", CPU_ONLY)
    with pytest.raises(ValueError, match="device must be one of"):
        resolve("tpu", CPU_ONLY)


@pytest.mark.filterwarnings("ignore:Specified provider .CUDAExecutionProvider. is not in available provider names")
def test_a_gpu_runs_the_float_models_and_asks_for_its_providers_first():
    gpu = local_detector("balanced", Device("cuda", ("CUDAExecutionProvider", "CPUExecutionProvider")))
    cpu = local_detector("balanced")
    assert gpu.info().model_files == ("centerface.onnx", "license_plate_yolov8n.onnx")
    assert cpu.info().model_files == ("centerface_int8.onnx", "license_plate_yolov8n_int8.onnx")  # int8 is for CPUs
    assert gpu.info().device.words == "the GPU (CUDA)" and cpu.info().device.words == "the CPU"


def test_describe_says_which_device_runs_the_local_models():
    assert describe(BackendConfig(device="auto")).endswith("on the CPU, preset balanced")  # no GPU on this machine
    assert "on the GPU (CUDA), which is not here" in describe(BackendConfig(device="cuda"))


def test_the_cli_refuses_cuda_without_a_gpu_before_writing_and_auto_says_the_cpu(tmp_path):
    refused = run_cli(SAMPLES / "astronaut.jpg", "-o", tmp_path / "a", "--device", "cuda")
    assert (
        refused.returncode == 2
        and refused.stderr.startswith("error: No CUDA GPU here")
        and len(refused.stderr.splitlines()) == 1
    )
    assert not (tmp_path / "a").exists()
    done = run_cli(SAMPLES / "astronaut.jpg", "-o", tmp_path / "b")
    assert "on the CPU" in done.stdout.splitlines()[0]
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["backend"]["device"] == "cpu"


def test_home_says_the_device_and_a_missing_gpu_offers_the_cpu():
    at = open_page(query={"device": "cuda"})
    assert "No CUDA GPU here" in at.error[0].value
    at.button[0].click().run()
    assert at.session_state["device"] == "cpu" and "on the CPU" in at.info[0].value


def test_tiles_batched_for_a_gpu_find_the_same_faces_as_one_tile_at_a_time():
    import numpy as np

    from anonymize.detectors.centerface import CenterFaceDetector
    from anonymize.media import load_image

    city = load_image(SAMPLES / "city.jpg").pixels
    big = np.ascontiguousarray(
        np.tile(city, (5, 4, 1))[:2600, :3000]
    )  # a pass larger than a tile: 2×2 overlapping tiles
    one, four = (CenterFaceDetector(tiles_per_run=n).detect(big, confidence=0.5, overlap=0.3) for n in (1, 4))
    assert (
        len(one) > 50
        and np.allclose(one.xyxy, four.xyxy, atol=1e-3)
        and np.allclose(one.confidence, four.confidence, atol=1e-5)
    )
