"""What a file that is not the checkpoint it was given as looks like, for error messages."""

from __future__ import annotations

from pathlib import Path

#: Leading bytes of formats people hand to a checkpoint reader by mistake, and what they are.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive (PyTorch's torch.save format, or a .npz)"),
    (b"\x93NUMPY", "a NumPy .npy array file"),
    (b"\x89HDF", "an HDF5 file"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip file"),
    (b"GGUF", "a GGUF file (llama.cpp)"),
)


def describe(path: Path) -> str:
    """A few words on what ``path`` holds: ``"an empty file"``, ``"a text file"``, ``"a pickle"``...

    Returns ``""`` where nothing is recognised (or the file cannot be read).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return ""
    if not head:
        return "an empty file"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a pickle (a legacy torch.save file or another Python object)"
    if len(head) >= 16 and head[8:9] == b"{":
        return ""  # plausibly safetensors: say nothing rather than guess
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the 512 bytes
            return ""
        text = head[: exc.start].decode("utf-8")
    if all(char.isprintable() or char in "\t\r\n" for char in text):
        first = text.strip().splitlines()[0][:40] if text.strip() else ""
        return f"a text file (it starts {first!r})" if first else "a text file"
    return ""
