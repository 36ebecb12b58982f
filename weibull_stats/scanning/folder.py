"""The output folder of a scan: its lock, its manifest, atomic writes, what a new scan may find there.

The lock
--------
:func:`output_lock` holds ``fcntl.flock`` on ``DIR/scan.lock`` while a scan (or ``weibull-stats
report``) writes into ``DIR``, and removes the file when it lets go. The kernel drops the lock
when the process ends, however it ends (SIGKILL included), so a killed scan never leaves the
folder locked; the file it leaves then means nothing unless a process holds it. A second
writer refuses at once, naming the folder and the process (pid, host, start time) that holds
it. A process that locked a file its holder removed meanwhile takes the lock anew.

The manifest
------------
``DIR/manifest.json`` lists every file a scan and its report write into ``DIR``; each name is
added (:func:`declare_outputs`) before the file appears, so a scan killed at any point leaves
no file of its own unlisted. A new scan writes only into a folder that is new, empty, or
holds an earlier scan's files and nothing else (:func:`check_output_folder`); it removes
exactly the files the manifest lists (:func:`clear_outputs`), never another.

Atomic writes
-------------
:func:`atomic_path` gives a temporary name in the same folder; the file is flushed to disk and
renamed over the target (:func:`os.replace`) only when it is complete, so a full disk or a
kill leaves the previous file or none, never a 0-byte or half-written one. A write that fails
names the file it was writing, not a temporary name (:func:`output_error`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if sys.platform != "win32":  # pragma: no branch
    import fcntl

LOCK = "scan.lock"
#: The list of the files a scan and its report wrote into their folder.
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: The scan's journal (:mod:`weibull_stats.scanning.journal`).
JOURNAL = "journal.jsonl"
#: Temporary files and folders of :func:`atomic_path` and :func:`staged_files` (``.NAME.PID.tmp...``).
TEMPORARY = re.compile(r"^\..+\.\d+\.tmp(\..*)?$")


# ---------------------------------------------------------------------- the lock
_HELD: dict[Path, tuple[int, int]] = {}  # folder -> (descriptor, depth): the locks this process holds
#: Times a lock is taken anew when the holder before removed the file just locked.
_ATTEMPTS = 100


class OutputFolderError(ValueError):
    """The output folder cannot take this scan: files no scan wrote, a corrupt manifest or lock file,
    nothing to resume. ``filename`` is the folder, as an :class:`OSError`'s names its file."""

    def __init__(self, folder: str | Path, message: str) -> None:
        super().__init__(message)
        self.filename = str(folder)


def _holder(lock: Path) -> str:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
        return f"pid {data['pid']} on {data['host']}, since {data['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold the lock on the output folder ``out`` (created if needed) for the ``with`` block.

    Re-entrant within one process (the workflow holds it around the scan and its report).
    On leaving, the lock file is removed, and so are the folders made here if they are empty:
    a scan that wrote nothing leaves nothing.

    Raises
    ------
    OSError
        Another process holds the lock: the message names the folder and that process.
    OutputFolderError
        ``out/scan.lock`` is some other file, not a lock file of weibull-stats.
    """
    folder = Path(out)
    key = folder.resolve()
    if key in _HELD:
        descriptor, depth = _HELD[key]
        _HELD[key] = (descriptor, depth + 1)
        try:
            yield folder
        finally:
            descriptor, depth = _HELD[key]
            _HELD[key] = (descriptor, depth - 1)
        return
    made = _missing_folders(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK
    try:
        descriptor = _lock_file(folder, lock)
    except BaseException:
        _remove_empty(made)
        raise
    try:
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            os.ftruncate(descriptor, 0)
            os.write(descriptor, (json.dumps(record) + "\n").encode())
        except OSError as exc:
            raise output_error(exc, lock) from exc
        _HELD[key] = (descriptor, 1)
        yield folder
    finally:
        _HELD.pop(key, None)
        with contextlib.suppress(OSError):  # removed while held: a waiting process sees it gone
            lock.unlink()
        os.close(descriptor)  # closing the descriptor releases the lock
        _remove_empty(made)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: Iterable[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone): keep it and its parents
            return


def _lock_file(folder: Path, lock: Path) -> int:
    """A descriptor of ``lock``, locked; the file at that name when the lock was taken."""
    for _ in range(_ATTEMPTS):
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the holder before removed the folder it had made
            folder.mkdir(parents=True, exist_ok=True)
            continue
        try:
            _acquire(descriptor, folder, lock)
            if _same_file(descriptor, lock):
                _check_lock_file(descriptor, folder, lock)
                return descriptor
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)  # the holder before removed the file this process locked: lock the new one
    raise OSError(f"{folder}: output folder in use by other scans in turn (lock file {lock}); "
                  "choose another --out")


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(path))
    except FileNotFoundError:
        return False


def _check_lock_file(descriptor: int, folder: Path, lock: Path) -> None:
    os.lseek(descriptor, 0, os.SEEK_SET)
    content = os.read(descriptor, 16)
    if content and not content.startswith(b'{"pid": '):
        raise OutputFolderError(folder, f"{lock}: not a lock file of weibull-stats, and a scan would "
                                        "overwrite it; move it away or choose another `out`")


def _acquire(descriptor: int, folder: Path, lock: Path) -> None:
    try:
        if sys.platform == "win32":  # pragma: no cover - msvcrt locks are also dropped at exit
            import msvcrt

            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise OSError(
            f"{folder}: output folder in use by another scan or report ({_holder(lock)}; lock file {lock}); "
            "wait for it to finish or choose another --out"
        ) from None


# ---------------------------------------------------------------------- the manifest
def _plain(name: Any) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and not set(name) & {"/", "\\", "\0"}


def read_manifest(out: str | Path) -> set[str] | None:
    """The file names ``out/manifest.json`` lists; None when there is no manifest.

    Raises
    ------
    OutputFolderError
        The manifest is not a list of plain file names (the message names it).
    """
    path = Path(out) / MANIFEST
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise OutputFolderError(out, f"{path}: unreadable manifest ({exc}); move the folder's files "
                                     "away or choose another `out`") from None
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, list) or not all(_plain(name) for name in files):
        raise OutputFolderError(out, f"{path}: corrupt manifest (not an object whose `files` lists plain "
                                     "file names); move the folder's files away or choose another `out`")
    return set(files)


def declare_outputs(out: str | Path, names: Iterable[str], *, fresh: bool = False) -> None:
    """List ``names`` in the manifest of ``out`` before they are written there.

    ``fresh``: the manifest lists ``names`` alone (a new scan), else it adds them.
    """
    listed = set() if fresh else (read_manifest(out) or set())
    wanted = listed | set(names) | {MANIFEST}
    if fresh or wanted != listed:
        record = {"format": MANIFEST_FORMAT, "written_by": "weibull-stats", "files": sorted(wanted)}
        atomic_write_text(Path(out) / MANIFEST, json.dumps(record, indent=2) + "\n")


# ---------------------------------------------------------------------- atomic writes
def output_error(exc: OSError, path: str | Path) -> OSError:
    """``exc``, a failed write of ``path`` (a full disk, a broken pipe), naming ``path``.

    Where the error names no file, or a temporary name of this module, it names ``path``:
    what failed is the output, not the input of the command.
    """
    if exc.filename is not None and not TEMPORARY.match(Path(str(exc.filename)).name) and not any(
            TEMPORARY.match(part) for part in Path(str(exc.filename)).parts[:-1]):
        return exc
    if exc.errno is None:  # an OSError with a message only: keep it, in the (errno, text, file) form
        return OSError(errno.EIO, str(exc) or type(exc).__name__, str(path))
    exc.filename = str(path)
    exc.filename2 = None
    return exc


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary name beside ``path`` (same suffix); renamed over ``path`` when the block succeeds.

    On an exception the temporary file is removed and ``path`` is left as it was; an
    :class:`OSError` names ``path`` (:func:`output_error`).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise output_error(exc, path) from exc
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def staged_files(out: str | Path) -> Iterator[Path]:
    """A temporary folder inside ``out`` whose files are renamed into ``out`` when the block succeeds.

    For writers that take a folder (the report and its plots): each file is listed in the
    manifest (:func:`declare_outputs`), then appears in ``out`` complete, by :func:`os.replace`,
    or not at all; on an exception nothing is moved, and an :class:`OSError` names the file
    of ``out`` (or ``out`` itself) it was writing.
    """
    out = Path(out)
    staging = out / f".staged.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        files = sorted(file for file in staging.iterdir() if file.is_file())
        declare_outputs(out, (file.name for file in files))
        for file in files:
            with open(file, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(file, out / file.name)
    except OSError as exc:
        written = Path(str(exc.filename)).name if exc.filename is not None else ""
        raise output_error(exc, out / written if written else out) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------- what a new scan finds
def _ours(path: Path, listed: set[str]) -> bool:
    """A file a scan may find in its folder: listed, the lock or manifest; hidden names are not looked at."""
    if path.name.startswith("."):  # temporary files of a killed scan, .DS_Store and the like
        return True
    return path.name in {LOCK, MANIFEST} | listed and not path.is_dir()


def check_output_folder(out: str | Path, *, resume: bool = False) -> None:
    """Refuse an output folder holding files no scan wrote there, or (``resume``) no journal.

    A scan writes into a folder that does not exist yet, an empty one, or one an earlier scan
    wrote: each file in it listed in its manifest, the lock file, or a hidden name (its
    temporary files; ``.DS_Store`` and other hidden files are left alone). Read-only.

    Raises
    ------
    OutputFolderError
        ``out`` is a file, holds other files (the message names them), its manifest is
        corrupt, or ``resume`` is asked and ``out`` holds no journal.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(folder, f"{folder}: not a folder; `out` is the folder a scan writes into")
    present = sorted(folder.iterdir()) if folder.is_dir() else []
    listed = (read_manifest(folder) or set()) if present else set()
    foreign = [path.name for path in present if not _ours(path, listed)]
    if foreign:
        names = ", ".join(foreign[:5]) + (f", ... ({len(foreign)} in all)" if len(foreign) > 5 else "")
        raise OutputFolderError(folder, f"{folder}: holds files no scan wrote there ({names}); a scan "
                                        "writes only into a new or empty folder or the folder of an "
                                        f"earlier scan (the files its {MANIFEST} lists): choose another "
                                        "`out`, or move those files away")
    if resume and not (folder / JOURNAL).is_file():
        raise OutputFolderError(folder, f"{folder / JOURNAL}: no such file, so no scan to continue with "
                                        "`resume`: give the `out` of an earlier scan, or scan afresh "
                                        "without `resume`")


def clear_outputs(out: str | Path, *, keep: Iterable[str] = ()) -> list[str]:
    """Remove what an earlier scan wrote into ``out``: the files its manifest lists (but ``keep``,
    the lock and the manifest itself) and the temporary files of a killed scan. Nothing else.

    Returns
    -------
    list of str
        The names removed, sorted.
    """
    folder = Path(out)
    removed = []
    for name in sorted((read_manifest(folder) or set()) - {LOCK, MANIFEST, *keep}):
        path = folder / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(name)
    for leftover in folder.iterdir():
        if TEMPORARY.match(leftover.name):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    return removed


__all__ = ["JOURNAL", "LOCK", "MANIFEST", "MANIFEST_FORMAT", "TEMPORARY", "OutputFolderError", "atomic_path",
           "atomic_write_text", "check_output_folder", "clear_outputs", "declare_outputs", "output_error",
           "output_lock", "read_manifest", "staged_files"]
