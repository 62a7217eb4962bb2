"""`OpenVINOEvaluator`: a checkpoint converted to OpenVINO and run by its CPU plugin.

On a CPU the forward pass is nearly all of self-play's time, and OpenVINO runs these small
convolutional networks 1.5-2.6x faster than torch eager in float32 (batch-norm folded into the
convolutions, fused activations, kernels planned for a fixed board shape); see
benchmarks/nn_forward.py. The network is converted from the torch module (`export.py`) once per
checkpoint, with dynamic batch and board size, and cached as OpenVINO IR beside the checkpoint
(`conversion_cache.py`); it is compiled for each board size it meets (a fixed spatial shape, a
dynamic batch), about a second each.

Settings: float32 inference unless precision="bf16" (OpenVINO's CPU plugin would otherwise pick
bf16 on CPUs that have it, and bf16 logits drift in the second digit); `threads` inference
threads, never pinned to cores, because self-play workers and the search share the cores with
them; the latency hint with one stream, since the search waits for each batch.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from .config import NetConfig
from .conversion_cache import cache_entry, load_or_convert
from .export import INPUT_NAME, ExportModule, example_input, output_names
from .network_evaluator import EvalOutput, NetworkEvaluator, complete_output
from .runtime import physical_cores

PRECISIONS = {"fp32": "f32", "bf16": "bf16"}


def runtime_version() -> str:
    import openvino
    return f"openvino-{openvino.__version__}"


def convert_to_ir(model, config: NetConfig, xml_path: Path) -> None:
    """Trace the torch network and save it as IR with a dynamic batch and board size (fp32
    weights kept: OpenVINO would compress them to fp16 by default)."""
    import openvino as ov
    import torch

    with torch.no_grad(), warnings.catch_warnings():
        # OpenVINO converts through torch.jit.trace, which torch now calls deprecated; its
        # torch.export path cannot yet convert the board-size arithmetic of global pooling.
        warnings.simplefilter("ignore")
        ov_model = ov.convert_model(ExportModule(model, config),
                                    example_input=example_input(config, config.board_sizes[0]))
    ov_model.reshape({0: ov.PartialShape([-1, config.in_planes, -1, -1])})
    ov_model.inputs[0].get_tensor().set_names({INPUT_NAME})
    for output, name in zip(ov_model.outputs, output_names(config)):
        output.get_tensor().set_names({name})
    ov.save_model(ov_model, str(xml_path), compress_to_fp16=False)


class OpenVINOEvaluator(NetworkEvaluator):
    """The Evaluator protocol over an OpenVINO-compiled network.

    `model` (a torch module in eval mode) is needed only when the cache has no conversion yet;
    `checkpoint_dir`, `stem` and `weights_sha256` key the cache. The network is compiled for
    its first trained size at once and for other sizes on first use (any_size=True)."""

    backend = "openvino"

    def __init__(self, model, config: NetConfig, *, checkpoint_dir: Path, stem: str,
                 weights_sha256: str, threads: int | None = None, precision: str = "fp32",
                 symmetry: str = "none", batch_size: int | None = None, seed: int = 0,
                 any_size: bool = False, log: Callable[[str], None] | None = None):
        import openvino as ov

        super().__init__(config, symmetry=symmetry, batch_size=batch_size, seed=seed,
                         any_size=any_size)
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self._cache_key = (Path(checkpoint_dir), stem, weights_sha256)
        self.threads = threads or physical_cores()
        self.precision = precision
        self._core = ov.Core()
        self._names = output_names(config)
        self._requests: dict[int, object] = {}
        self._lock = threading.Lock()  # one infer request per size; analysis may call from threads
        checkpoint_dir, stem, sha = self._cache_key
        entry = cache_entry(checkpoint_dir, stem, sha, self.backend, {"model": ".xml", "weights": ".bin"})
        self._ov_model, converted = load_or_convert(
            entry, runtime_version(),
            convert=lambda paths: convert_to_ir(model, config, paths["model"]),
            read=lambda paths: self._core.read_model(str(paths["model"])), log=log)
        self.conversions = int(converted)
        self._request(config.board_sizes[0])

    @property
    def description(self) -> str:
        return f"openvino (cpu, {self.threads} threads, {self.precision})"

    def _request(self, size: int):
        request = self._requests.get(size)
        if request is not None:
            return request
        import openvino as ov

        ov_model = self._ov_model.clone()
        ov_model.reshape({0: ov.PartialShape([-1, self.config.in_planes, size, size])})
        compiled = self._core.compile_model(ov_model, "CPU", {
            "INFERENCE_NUM_THREADS": self.threads,
            "INFERENCE_PRECISION_HINT": PRECISIONS[self.precision],
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
            "ENABLE_CPU_PINNING": False,
        })
        request = compiled.create_infer_request()
        self._requests[size] = request
        return request

    def _forward(self, features: np.ndarray, size: int) -> EvalOutput:
        with self._lock:
            request = self._request(size)
            results = request.infer({0: features})
            out = {name: np.array(results[i], dtype=np.float32)
                   for i, name in enumerate(self._names)}
        return complete_output(out.get("policy_logits"), out.get("value"), out.get("ownership"),
                               out.get("score"), size)
