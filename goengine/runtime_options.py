"""The command-line options that choose how networks run, shared by every command that loads one
(gtp, analysis, match, the benchmarks). Kept free of torch so that parsing arguments never
imports it; `goengine.nn.backends` is what acts on them."""

from __future__ import annotations

import argparse
import importlib.util

BACKENDS = ("auto", "torch", "openvino", "onnxruntime")
PRECISIONS = ("fp32", "bf16")
EXTRAS = {"openvino": "fast", "onnxruntime": "onnx"}


def add_runtime_arguments(parser: argparse.ArgumentParser, backend_default: str | None = "auto") -> None:
    """--backend and --precision; backend_default None leaves the choice to a preset."""
    default = "the default" if backend_default == "auto" else "the preset's choice when not given"
    parser.add_argument("--backend", default=backend_default, choices=BACKENDS,
                        help="runtime of the networks: auto (openvino on a CPU when installed, torch on a "
                             f"GPU or otherwise; {default}), torch, openvino or onnxruntime")
    parser.add_argument("--precision", default=None, choices=PRECISIONS,
                        help="network arithmetic: fp32 (exact; the default on a CPU) or bf16 (faster on "
                             "CPUs with bf16 instructions, logits within about 1%%; torch and openvino)")


def runtime_problem(backend: str) -> str | None:
    """Why `backend` cannot run here (not installed), or None."""
    if backend in EXTRAS and importlib.util.find_spec(backend) is None:
        return f"--backend {backend}: not installed (pip install 'goengine[{EXTRAS[backend]}]')"
    return None
