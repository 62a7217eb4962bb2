"""`OnnxRuntimeEvaluator`: a checkpoint exported to ONNX and run by ONNX Runtime on the CPU.

The second CPU runtime, for platforms where OpenVINO is not available (its speed on these
networks sits between torch eager and OpenVINO; see benchmarks/nn_forward.py). The export is
cached like OpenVINO's IR (`conversion_cache.py`). ONNX Runtime's intra-op threads are told not
to spin while idle: between two network calls the search runs on the same cores.
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

OPSET = 17


def runtime_version() -> str:
    import onnxruntime
    return f"onnxruntime-{onnxruntime.__version__}"


def export_onnx(model, config: NetConfig, path: Path) -> None:
    import torch

    names = output_names(config)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        dynamic = {name: {0: "batch"} for name in names}
        dynamic[INPUT_NAME] = {0: "batch", 2: "size", 3: "size"}
        torch.onnx.export(ExportModule(model, config), (example_input(config, config.board_sizes[0]),),
                          str(path), input_names=[INPUT_NAME], output_names=names,
                          opset_version=OPSET, dynamic_axes=dynamic, dynamo=False)


class OnnxRuntimeEvaluator(NetworkEvaluator):
    """The Evaluator protocol over one ONNX Runtime session (dynamic batch and board size)."""

    backend = "onnxruntime"

    def __init__(self, model, config: NetConfig, *, checkpoint_dir: Path, stem: str,
                 weights_sha256: str, threads: int | None = None, symmetry: str = "none",
                 batch_size: int | None = None, seed: int = 0, any_size: bool = False,
                 log: Callable[[str], None] | None = None):
        super().__init__(config, symmetry=symmetry, batch_size=batch_size, seed=seed,
                         any_size=any_size)
        self.threads = threads or physical_cores()
        self._names = output_names(config)
        self._lock = threading.Lock()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        entry = cache_entry(Path(checkpoint_dir), stem, weights_sha256, self.backend, {"model": ".onnx"})
        self._session, converted = load_or_convert(
            entry, runtime_version(),
            convert=lambda paths: export_onnx(model, config, paths["model"]),
            read=lambda paths: ort.InferenceSession(str(paths["model"]), options,
                                                    providers=["CPUExecutionProvider"]),
            log=log)
        self.conversions = int(converted)

    @property
    def description(self) -> str:
        return f"onnxruntime (cpu, {self.threads} threads, fp32)"

    def _forward(self, features: np.ndarray, size: int) -> EvalOutput:
        with self._lock:
            results = self._session.run(self._names, {INPUT_NAME: features})
        out = {name: np.asarray(r, dtype=np.float32) for name, r in zip(self._names, results)}
        return complete_output(out.get("policy_logits"), out.get("value"), out.get("ownership"),
                               out.get("score"), size)
