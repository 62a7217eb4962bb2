"""The three layers hold for every module, not a sample: goengine imports neither selfplay nor
training and selfplay does not import training (anywhere in a file, functions included), and
no module of goengine outside goengine/nn, nor any module of selfplay, imports torch when it is
imported (each is imported with torch blocked)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from gtp_helpers import engine_env

ROOT = Path(__file__).resolve().parent.parent


def modules(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__":
            found.append((path, ".".join(parts)))
    return found


def imported(path: Path, name: str) -> set[str]:
    """Every module an import statement of the file names (relative imports resolved)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("lower, upper", [("goengine", "selfplay"), ("goengine", "training"),
                                          ("selfplay", "training")])
def test_no_module_imports_a_layer_above_its_own(lower, upper):
    offenders = sorted(f"{name} imports {target}" for path, name in modules(lower)
                       for target in imported(path, name) if target == upper or target.startswith(upper + "."))
    assert not offenders, offenders


def test_the_import_scan_sees_relative_and_nested_imports(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("from ..nn import checkpoint\ndef f():\n    import training.loop\n")
    assert {"goengine.nn", "goengine.nn.checkpoint", "training.loop"} <= imported(source, "goengine.gtp.x")


BLOCK_TORCH = """
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked")
sys.meta_path.insert(0, Block())
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as e:
        if "torch is blocked" in str(e):
            failed.append(name)
print(" ".join(failed))
"""


def test_only_goengine_nn_imports_torch_when_imported():
    names = [name for package in ("goengine", "selfplay") for _, name in modules(package)
             if name != "goengine.nn" and not name.startswith("goengine.nn.")]
    assert len(names) > 90
    done = subprocess.run([sys.executable, "-c", BLOCK_TORCH, *names], capture_output=True, text=True,
                          env=engine_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"import torch when imported: {done.stdout}"
