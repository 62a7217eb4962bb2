"""Choosing the runtime that evaluates a checkpoint: `load_evaluator(path, backend=...)`.

| backend     | runs on   | what it is                                                   |
|-------------|-----------|--------------------------------------------------------------|
| torch       | CPU, CUDA | the training framework itself (TorchEvaluator)               |
| openvino    | CPU       | the checkpoint converted to OpenVINO IR (OpenVINOEvaluator)  |
| onnxruntime | CPU       | the checkpoint exported to ONNX (OnnxRuntimeEvaluator)       |
| auto        |           | torch on a GPU; else openvino when installed; else torch     |

OpenVINO and ONNX Runtime are optional (`pip install 'goengine[fast]'` / `'goengine[onnx]'`);
without them everything runs on torch. Every backend answers the same policy and value as
torch to about 1e-6 in float32 (tests/test_backends.py). `device` "auto" means CUDA when torch
sees a GPU, else the CPU.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Callable, Optional

from .checkpoint import checkpoint_paths, load_checkpoint
from .network_evaluator import NetworkEvaluator

from ..runtime_options import BACKENDS, EXTRAS


class BackendError(ValueError):
    """A backend that does not exist, is not installed, or cannot run on the device asked."""


def installed(backend: str) -> bool:
    if backend == "torch":
        return True
    return importlib.util.find_spec(backend) is not None


def resolve_device(device: str = "auto") -> str:
    """The torch device a setting names: "auto" is CUDA when there is one, else the CPU."""
    if device != "auto":
        return device
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_backend(backend: str = "auto", device: str = "auto") -> tuple[str, str]:
    """(backend, device) that `load_evaluator` will use; raises BackendError for a choice that
    cannot run here."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    device = resolve_device(device)
    on_cpu = device == "cpu"
    if backend == "auto":
        return ("openvino" if on_cpu and installed("openvino") else "torch"), device
    if backend != "torch":
        if not on_cpu:
            raise BackendError(f"backend {backend} runs on the CPU only, not on {device}")
        if not installed(backend):
            raise BackendError(f"backend {backend} is not installed: pip install "
                               f"'goengine[{EXTRAS[backend]}]' (or choose --backend torch)")
    return backend, device


def resolve_precision(precision: Optional[str], backend: str, device: str) -> Optional[str]:
    """The arithmetic that `precision` means for a resolved backend and device. "auto" is bf16
    where the CPU computes it natively (AMX or AVX-512 BF16): there a search gets about 3x the
    visits in the same time (benchmarks/gtp_speed.py --precision bf16) with moves as good at
    equal visits; elsewhere bf16 would be emulated and slower, so auto is the runtime's exact
    default (None)."""
    if precision != "auto":
        return precision
    from .runtime import native_bf16

    if device == "cpu" and backend in ("torch", "openvino") and native_bf16():
        return "bf16"
    return None


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_evaluator(path: str | os.PathLike, *, backend: str = "auto", device: str = "auto",
                   threads: Optional[int] = None, precision: Optional[str] = None, symmetry: str = "none",
                   batch_size: Optional[int] = None, seed: int = 0, any_size: bool = False,
                   expect_feature_set: Optional[str] = None, expect_in_planes: Optional[int] = None,
                   log: Optional[Callable[[str], None]] = None) -> NetworkEvaluator:
    """The evaluator of checkpoint `path` on the chosen runtime. The checkpoint is always read
    and checked (sha256, config, tensor shapes) first; a converted form comes from the cache
    when its weights still match. `log`, when given, hears which runtime runs and any
    conversion. precision None is each runtime's exact default (fp32; bf16 autocast on CUDA);
    "bf16" is for torch (autocast) and OpenVINO, "fp32" forces float32, "auto" is
    `resolve_precision`'s choice; ONNX Runtime is fp32."""
    backend, device = resolve_backend(backend, device)
    if precision not in (None, "auto", "fp32", "bf16"):
        raise BackendError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    precision = resolve_precision(precision, backend, device)
    model, config, meta = load_checkpoint(path, expect_feature_set=expect_feature_set,
                                          expect_in_planes=expect_in_planes, device=device)
    common = dict(symmetry=symmetry, batch_size=batch_size, seed=seed, any_size=any_size)
    if backend == "torch":
        from .evaluator import TorchEvaluator
        bf16 = None if precision is None else precision == "bf16"
        evaluator = TorchEvaluator(model, config, device=device, threads=threads, bf16=bf16, **common)
    else:
        weights_path, _ = checkpoint_paths(path)
        where = dict(checkpoint_dir=weights_path.parent, stem=weights_path.name[:-len(".safetensors")],
                     weights_sha256=meta["weights_sha256"], threads=threads, log=log)
        if backend == "openvino":
            from .openvino_evaluator import OpenVINOEvaluator
            evaluator = OpenVINOEvaluator(model, config, precision=precision or "fp32", **where, **common)
        else:
            if precision == "bf16":
                raise BackendError("onnxruntime runs in fp32 only")
            from .onnx_evaluator import OnnxRuntimeEvaluator
            evaluator = OnnxRuntimeEvaluator(model, config, **where, **common)
    if log is not None:
        log(f"network {meta.get('model_id') or weights_path_name(path)}: {evaluator.description}")
    return evaluator


def weights_path_name(path: str | os.PathLike) -> str:
    return checkpoint_paths(path)[0].name
