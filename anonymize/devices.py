"""Where the local models run: the CPU, or an NVIDIA GPU through onnxruntime's CUDA (and TensorRT) providers.

``auto`` takes a GPU when the installed onnxruntime offers one (the
``onnxruntime-gpu`` wheel of the ``[gpu]`` extra, on a machine with CUDA) and
the CPU otherwise; ``cuda`` insists and is an error, in one sentence, without
one. The int8 models are for CPUs: on a GPU the float models run.

Example (on a machine without a GPU):
    >>> resolve("auto", available=["CPUExecutionProvider"]).name
    'cpu'
    >>> resolve("cuda", available=["CUDAExecutionProvider", "CPUExecutionProvider"]).providers
    ('CUDAExecutionProvider', 'CPUExecutionProvider')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import onnxruntime

from anonymize.errors import DetectionError

DeviceChoice = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[DeviceChoice, ...] = ("auto", "cpu", "cuda")
#: GPU providers, best first; the CPU one always comes last, for operators a GPU provider lacks.
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
CPU_PROVIDER = "CPUExecutionProvider"


class DeviceError(DetectionError):
    """The device asked for is not here."""


@dataclass(frozen=True)
class Device:
    """A resolved device: ``cpu`` or ``cuda``, and the onnxruntime providers to run on it, in order."""

    name: Literal["cpu", "cuda"]
    providers: tuple[str, ...]

    @property
    def gpu(self) -> bool:
        return self.name == "cuda"

    @property
    def words(self) -> str:
        """How a sentence names it: "the CPU", "the GPU (CUDA)"."""
        if not self.gpu:
            return "the CPU"
        return (
            "the GPU ("
            + " and ".join(
                p.removesuffix("ExecutionProvider").replace("Tensorrt", "TensorRT")
                for p in self.providers
                if p != CPU_PROVIDER
            )
            + ")"
        )


def resolve(choice: str, available: Sequence[str] | None = None) -> Device:
    """The device for ``choice`` given the providers onnxruntime offers (``available``: the installed ones).

    Raises DeviceError for ``cuda`` where no GPU provider is installed, and ValueError for an unknown choice.
    """
    if choice not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {choice!r}")
    offered = list(onnxruntime.get_available_providers() if available is None else available)
    gpu = tuple(p for p in GPU_PROVIDERS if p in offered)
    if choice == "cuda" and not gpu:
        raise DeviceError(
            "No CUDA GPU here: this onnxruntime offers only "
            f"{', '.join(offered) or 'no provider'}. Install the [gpu] extra on a machine with an NVIDIA GPU, or use the CPU."
        )
    if gpu and choice != "cpu":
        return Device("cuda", gpu + (CPU_PROVIDER,))
    return Device("cpu", (CPU_PROVIDER,))
