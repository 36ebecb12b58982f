"""Read real checkpoints one tensor at a time and name every matrix by layer and kind."""

from weibull_stats.checkpoints._listing import check_npy_header, check_npy_size
from weibull_stats.checkpoints.fp8 import ModelWeights, model_weights
from weibull_stats.checkpoints.naming import (
    BLOCK_KINDS,
    FAMILIES,
    KINDS,
    MatrixRole,
    classify,
    detect_family,
    split_fused,
)
from weibull_stats.checkpoints.readers import (
    Checkpoint,
    TensorEntry,
    minilm_path,
    open_checkpoint,
    resolve_paths,
    step_of,
)
from weibull_stats.checkpoints.sources import (
    MemoryCheckpoint,
    from_module,
    from_state_dict,
    hub_snapshot,
    open_sources,
    source_names,
)

__all__ = [
    "BLOCK_KINDS",
    "FAMILIES",
    "KINDS",
    "Checkpoint",
    "MatrixRole",
    "MemoryCheckpoint",
    "ModelWeights",
    "TensorEntry",
    "check_npy_header",
    "check_npy_size",
    "classify",
    "detect_family",
    "from_module",
    "from_state_dict",
    "hub_snapshot",
    "minilm_path",
    "model_weights",
    "open_checkpoint",
    "open_sources",
    "resolve_paths",
    "source_names",
    "split_fused",
    "step_of",
]
