"""A real training trajectory on the CPU: a tiny GPT-NeoX-style model trained on Python's own source.

:func:`train_tiny_gpt_neox` trains a few-layer GPT-NeoX (``transformers.GPTNeoXForCausalLM``)
on the bytes of standard-library source files that ship with every Python, and saves Hugging
Face checkpoints (``config.json`` + ``model.safetensors``) in ``step-N`` folders. Scanning the
folder (``weibull-stats scan OUT``) shows k and λ of every matrix against step. Step 0 is
the random initialisation, a real step-0 checkpoint of the architecture.

Needs ``torch`` and ``transformers`` (the ``torch`` and ``models`` extras); nothing is
downloaded.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Standard-library modules whose source text is the training corpus.
CORPUS_MODULES: tuple[str, ...] = ("argparse", "textwrap", "dataclasses")


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """What :func:`train_tiny_gpt_neox` did.

    Attributes
    ----------
    checkpoints : tuple of pathlib.Path
        The ``step-N`` folders, in step order.
    steps : tuple of int
    losses : tuple of float
        Training loss (nats per byte) at each step, ``losses[i]`` after step ``i + 1``.
    corpus_bytes : int
    seed : int
    """

    checkpoints: tuple[Path, ...]
    steps: tuple[int, ...]
    losses: tuple[float, ...]
    corpus_bytes: int
    seed: int


def corpus_bytes(modules: Sequence[str] = CORPUS_MODULES) -> np.ndarray:
    """The source files of ``modules`` as one uint8 array (the training text)."""
    texts = []
    for name in modules:
        module = importlib.import_module(name)
        if module.__file__ is None:
            raise ValueError(f"module {name!r} has no source file to train on")
        texts.append(Path(module.__file__).read_bytes())
    return np.frombuffer(b"\n".join(texts), dtype=np.uint8)


def import_transformers() -> Any:
    """``transformers``, imported without tqdm's "IProgress not found" warning.

    Importing it loads ``tqdm.auto``, which in a Jupyter kernel without ``ipywidgets`` warns,
    with the absolute path of tqdm's source, that it cannot draw widget bars. Nothing here
    draws a bar of ``transformers``, so this one warning is dropped, for this import only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import transformers  # optional dependency (the ``models`` extra)
    return transformers


def train_tiny_gpt_neox(
    out: str | Path,
    *,
    steps: int = 300,
    save_steps: Sequence[int] | None = None,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    sequence_length: int = 64,
    batch_size: int = 16,
    learning_rate: float = 3e-3,
    weight_decay: float = 0.1,
    seed: int = 0,
    callback: Callable[[int, float], None] | None = None,
) -> TrainingRun:
    """Train a tiny GPT-NeoX on bytes of Python's source and save ``step-N`` checkpoints.

    Parameters
    ----------
    out : path
        Folder for the ``step-N`` subfolders (created).
    steps : int, default 300
        AdamW steps.
    save_steps : sequence of int, optional
        Steps to save (0 is the initialisation); default 0, steps/6, steps/3, steps/2, 2 steps/3, steps.
    hidden_size, num_layers, num_heads : int
        Width 64, 2 layers, 4 heads by default; the FFN is 4 x wider.
    sequence_length, batch_size : int
    learning_rate, weight_decay : float
    seed : int
        Seeds the initialisation and the batch order (torch's global RNG is restored after).
    callback : callable, optional
        ``callback(step, loss)`` after each step (progress reporting in scripts).

    Returns
    -------
    TrainingRun

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     run = train_tiny_gpt_neox(folder, steps=2, save_steps=(0, 2), hidden_size=16,
    ...                               num_layers=1, num_heads=2, sequence_length=8, batch_size=2)
    ...     [p.name for p in run.checkpoints], len(run.losses)
    (['step-0', 'step-2'], 2)
    """
    import torch
    from safetensors.torch import save_file

    transformers = import_transformers()
    if steps < 1:
        raise ValueError(f"`steps` must be at least 1; got {steps}")
    if save_steps is None:
        save_steps = sorted({0, steps // 6, steps // 3, steps // 2, 2 * steps // 3, steps})
    bad = [s for s in save_steps if not 0 <= s <= steps]
    if bad:
        raise ValueError(f"`save_steps` must lie in [0, {steps}]; got {bad}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = torch.from_numpy(corpus_bytes().astype(np.int64))
    if data.numel() <= sequence_length + 1:
        raise ValueError("the training text is shorter than one sequence")
    config = transformers.GPTNeoXConfig(
        vocab_size=256, hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=num_heads, intermediate_size=4 * hidden_size,
        max_position_embeddings=sequence_length, tie_word_embeddings=False,
    )
    saved: list[Path] = []
    losses: list[float] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.GPTNeoXForCausalLM(config)
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda i: min(1.0, (i + 1) / max(1, steps // 10)))
        model.train()

        def save(step: int) -> None:
            folder = out / f"step-{step}"
            folder.mkdir(parents=True, exist_ok=True)
            state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
            save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt", "step": str(step)})
            config.to_json_file(str(folder / "config.json"))
            saved.append(folder)

        if 0 in save_steps:
            save(0)
        for step in range(1, steps + 1):
            starts = torch.randint(0, data.numel() - sequence_length - 1, (batch_size,), generator=generator)
            batch = torch.stack([data[s : s + sequence_length] for s in starts.tolist()])
            loss = model(input_ids=batch, labels=batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if callback is not None:
                callback(step, losses[-1])
            if step in save_steps:
                save(step)
    return TrainingRun(tuple(saved), tuple(sorted(set(save_steps))), tuple(losses), int(data.numel()), seed)
