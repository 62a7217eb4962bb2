"""The shared model module: the only part of goengine that imports torch. See each file's
docstring for representations; this file only re-exports.

`runtime` comes first: it sets OpenMP's spin count before torch is imported (see there)."""

from .runtime import physical_cores  # isort: skip  (must precede every torch import)
from .blocks import (ConvBlock, GlobalPoolingBias, GlobalPoolingResidualBlock, ResidualBlock,
                     global_pool)
from .checkpoint import (FORMAT_VERSION, CheckpointError, checkpoint_paths, load_checkpoint,
                         make_model_id, read_checkpoint_meta, save_checkpoint)
from .config import KINDS, NetConfig
from .backends import BACKENDS, BackendError, load_evaluator, resolve_backend, resolve_device
from .evaluator import TorchEvaluator
from .network_evaluator import SYMMETRY_MODES, EvalOutput, NetworkEvaluator
from .heads import OwnershipHead, PolicyHead, ScoreHead, ValueHead
from .networks import NETWORK_CLASSES, NetOutput, PolicyNet, PolicyValueNet, ValueNet, build_network
from .rollout_policy import RolloutPolicy

__all__ = [
    "ConvBlock", "GlobalPoolingBias", "GlobalPoolingResidualBlock", "ResidualBlock", "global_pool",
    "FORMAT_VERSION", "CheckpointError", "checkpoint_paths", "load_checkpoint", "make_model_id",
    "read_checkpoint_meta", "save_checkpoint",
    "KINDS", "NetConfig",
    "BACKENDS", "BackendError", "load_evaluator", "resolve_backend", "resolve_device",
    "SYMMETRY_MODES", "EvalOutput", "NetworkEvaluator", "TorchEvaluator", "physical_cores",
    "OwnershipHead", "PolicyHead", "ScoreHead", "ValueHead",
    "NETWORK_CLASSES", "NetOutput", "PolicyNet", "PolicyValueNet", "ValueNet", "build_network",
    "RolloutPolicy",
]
