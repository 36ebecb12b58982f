"""Read real checkpoints one tensor at a time and name every matrix by layer and kind."""

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

__all__ = [
    "BLOCK_KINDS",
    "FAMILIES",
    "KINDS",
    "Checkpoint",
    "MatrixRole",
    "TensorEntry",
    "classify",
    "detect_family",
    "minilm_path",
    "open_checkpoint",
    "resolve_paths",
    "split_fused",
    "step_of",
]
