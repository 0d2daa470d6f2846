"""File I/O shared by every layer: checksums, atomic writes (a temporary file renamed into place, so an
interrupted write never leaves half a file), and checks, before any work, that an output can be written."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .exceptions import MetarecError

__all__ = [
    "sha256",
    "atomic_write_bytes",
    "atomic_write_figure",
    "atomic_write_parquet",
    "ensure_new_file",
    "ensure_writable_dir",
    "image_format",
    "image_formats",
    "check_image_format",
]


def sha256(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory renamed into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a KB is shared data
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def ensure_new_file(path: str | os.PathLike, force: bool, option: str = "--out", image: bool = False,
                    new_dirs: int = 0) -> None:
    """Check, before any work, that a file can be written at ``path``; raise a one-line :class:`MetarecError`.

    Refuses an existing file without ``force`` and a directory; then the file's directory must exist (or,
    with ``new_dirs=1``, be a new directory in one that exists, as ``--report DIR`` is), be a directory and
    be writable (tried for real: a probe file, and a new directory created and removed again, so nothing is
    left behind). A missing parent is refused rather than created: a typo must not make a new tree. With
    ``image`` the extension must be one matplotlib writes (no extension: PNG).
    """
    p = Path(path)
    if p.is_dir():
        raise MetarecError(f"{p}: is a directory; give {option} a file name")
    if p.exists() and not force:
        raise MetarecError(f"{p}: already exists; pass --force (force=True) to overwrite it")
    if image:
        check_image_format(p, f"give {option} one of the extensions")
    ensure_writable_dir(p.parent, p, option, new_dirs=new_dirs)


def ensure_writable_dir(directory: str | os.PathLike, path: str | os.PathLike, option: str,
                        new_dirs: int = 0) -> None:
    """Raise a one-line :class:`MetarecError` unless files can be created in ``directory``.

    At most ``new_dirs`` trailing levels of ``directory`` may be missing (they would be created by the
    write); more is taken for a typo and refused, naming the first missing directory. The check writes for
    real (a hidden probe file, removed at once) because permission bits say nothing for root or for special
    file systems. Directories it had to create are removed again.
    """
    directory = Path(directory) if str(directory) else Path(".")
    missing: list[Path] = []
    d = directory
    while not d.exists() and not d.is_symlink() and d != d.parent:
        missing.append(d)
        d = d.parent
    if d.exists() and not d.is_dir():
        raise MetarecError(f"{path}: {d} is a file, not a directory; choose another {option} path")
    if len(missing) > new_dirs:
        raise MetarecError(f"{path}: directory {missing[-1]} does not exist; create it first, or check the "
                           f"{option} path for a typo")
    created: list[Path] = []
    doing = f"write into {directory}"
    try:
        for m in reversed(missing):
            doing = f"create {m}"
            m.mkdir()
            created.append(m)
        doing = f"write into {directory}"
        fd, probe = tempfile.mkstemp(prefix=".metarec-write-check.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MetarecError(f"{path}: cannot {doing} ({reason}); choose another {option} path or fix the "
                           f"permissions") from None
    finally:
        for m in reversed(created):
            try:
                m.rmdir()
            except OSError:
                pass


def image_format(path: str | os.PathLike) -> str:
    """The image format :func:`atomic_write_figure` writes ``path`` in (from the extension; none: png)."""
    return Path(path).suffix.lstrip(".").lower() or "png"


def image_formats() -> set[str]:
    """File formats matplotlib can save figures in (without importing pyplot)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return set(FigureCanvasBase.get_supported_filetypes())


def check_image_format(path: Path, fix: str) -> str:
    """The format of ``path`` (:func:`image_format`), or a one-line MetarecError ending in ``fix`` and the
    extensions matplotlib writes."""
    fmt, formats = image_format(path), image_formats()
    if fmt not in formats:
        raise MetarecError(f"{path}: matplotlib cannot write {path.suffix!r} images; {fix} "
                           f"{', '.join('.' + f for f in sorted(formats))}")
    return fmt


def atomic_write_figure(fig, path: str | os.PathLike, **kwargs) -> None:
    """Save a matplotlib figure (format from the extension) via a temporary file renamed into place."""
    import io

    path = Path(path)
    fmt = check_image_format(path, "use one of")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **kwargs)
    atomic_write_bytes(path, buf.getvalue())


def atomic_write_parquet(frame, path: Path, row_group_size: int | None = None) -> None:
    """Write a DataFrame as zstd-compressed Parquet (no index) via a temporary file renamed into place."""
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, compression="zstd",
                     **({} if row_group_size is None else {"row_group_size": int(row_group_size)}))
    atomic_write_bytes(path, buf.getvalue())
