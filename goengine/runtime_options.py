"""The command-line options that choose how networks run, shared by every command that loads one
(gtp, analysis, match, the benchmarks). Kept free of torch so that parsing arguments never
imports it; `goengine.nn.backends` is what acts on them."""

from __future__ import annotations

import argparse
import importlib.util

BACKENDS = ("auto", "torch", "openvino", "onnxruntime")
PRECISIONS = ("auto", "fp32", "bf16")
EXTRAS = {"openvino": "fast", "onnxruntime": "onnx"}


def add_runtime_arguments(parser: argparse.ArgumentParser, backend_default: str | None = "auto",
                          precision_default: str | None = "auto") -> None:
    """--backend and --precision; a default of None leaves the choice to a preset."""
    default = "the default" if backend_default == "auto" else "the preset's choice when not given"
    parser.add_argument("--backend", default=backend_default, choices=BACKENDS,
                        help="runtime of the networks: auto (openvino on a CPU when installed, torch on a "
                             f"GPU or otherwise; {default}), torch, openvino or onnxruntime")
    chosen = "the default" if precision_default == "auto" else "the preset's choice when not given"
    parser.add_argument("--precision", default=precision_default, choices=PRECISIONS,
                        help=f"network arithmetic: auto (bf16 on CPUs that compute it natively, AMX or "
                             f"AVX-512 BF16, else exact; {chosen}), fp32 (exact) or bf16 (logits within "
                             "about 1%%; torch and openvino)")


def runtime_problem(backend: str) -> str | None:
    """Why `backend` cannot run here (not installed), or None."""
    if backend in EXTRAS and importlib.util.find_spec(backend) is None:
        return f"--backend {backend}: not installed (pip install 'goengine[{EXTRAS[backend]}]')"
    return None
