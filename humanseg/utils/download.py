"""Turn a weights path, archive or URL into a local weights file.

URLs are downloaded once into a cache directory (``$HUMANSEG_CACHE``, default
``~/.cache/humanseg``) with a progress bar, resumed from a ``.part`` file after an interruption
(HTTP ``Range``), checked (length, optional ``#sha256=`` or ``#md5=`` URL fragment, archive
integrity) and extracted there; processes of one job share a download through a file lock.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Any

from humanseg.errors import ConfigError
from humanseg.utils.zoo import is_zoo, weights_url

__all__ = ["resolve_weights_path", "cache_dir", "cached_path", "download", "extract_cached",
           "is_archive", "is_url"]

logger = logging.getLogger("humanseg")

MODEL_FILENAME = "model.pdparams"
CACHE_ENV = "HUMANSEG_CACHE"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
_URL_SCHEMES = ("http", "https", "file")
_CHUNK = 1 << 20


def cache_dir() -> str:
    """Where downloads and extracted archives go: ``$HUMANSEG_CACHE`` or ``~/.cache/humanseg``."""
    default = os.path.join("~", ".cache", "humanseg")
    return os.path.expanduser(os.environ.get(CACHE_ENV) or default)


def is_url(path: str) -> bool:
    """True for ``http://``, ``https://`` and ``file://`` URLs."""
    return urllib.parse.urlsplit(path).scheme in _URL_SCHEMES and "://" in path


def is_archive(path: str) -> bool:
    """True if ``path`` ends like an archive PaddleSeg publishes weights in."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _open_url(url: str, offset: int) -> tuple[Any, int, bool]:
    """Open ``url`` from byte ``offset``: (stream, total size or -1, whether it resumes)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        local = urllib.request.url2pathname(parts.path)
        if not os.path.isfile(local):
            raise ConfigError(f"cannot download '{url}': no such file '{local}'")
        stream = open(local, "rb")
        total = os.path.getsize(local)
        if offset > total:
            offset = 0
        stream.seek(offset)
        return stream, total, offset > 0
    headers = {"User-Agent": "humanseg"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=60)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # the .part is not a prefix we can resume: start again
            return _open_url(url, 0)
        raise
    resumed = response.status == 206
    length = int(response.headers.get("Content-Length") or -1)
    total = offset + length if resumed and length >= 0 else length
    return response, total, resumed


def _check_digest(path: str, fragment: str, url: str) -> None:
    """Verify ``sha256=<hex>`` or ``md5=<hex>`` given as the URL fragment."""
    if not fragment:
        return
    algo, _, expected = fragment.partition("=")
    if algo not in ("sha256", "md5") or not expected:
        raise ConfigError(f"'{url}': unsupported URL fragment '#{fragment}'; use #sha256=<hex> "
                          f"or #md5=<hex>")
    digest = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        os.remove(path)
        raise ConfigError(f"download of '{url}' is corrupt: {algo} {digest.hexdigest()} != "
                          f"{expected}; the file was removed, run again to download it anew")


@contextlib.contextmanager
def _locked(path: str):
    """Hold an exclusive lock on ``path`` (POSIX ``flock``; no lock where unavailable), so that
    processes of one distributed job download a file once instead of writing one ``.part``."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_path(url: str) -> str:
    """Where :func:`download` keeps ``url``: ``<cache>/downloads/<hash of url>/<name>`` (the URL
    fragment is not part of the key)."""
    parts = urllib.parse.urlsplit(url)
    address = urllib.parse.urlunsplit(parts._replace(fragment=""))
    name = os.path.basename(urllib.parse.unquote(parts.path.rstrip("/"))) or "download"
    return os.path.join(cache_dir(), "downloads", _key(address), name)


def download(url: str, progress: bool | None = None) -> str:
    """Download ``url`` into the cache once and return the local file.

    The file is written to ``<cache>/downloads/<hash of url>/<name>.part`` and renamed when
    complete; an interrupted download resumes from the ``.part`` (HTTP ``Range``). The size is
    checked against the server's, and against ``#sha256=``/``#md5=`` if the URL has one.

    Args:
        url: ``http(s)://`` or ``file://`` URL.
        progress: Show a tqdm progress bar (``None``: only on a terminal).

    Raises:
        ConfigError: The download failed (the ``.part`` is kept for the next attempt) or is
            corrupt.
    """
    parts = urllib.parse.urlsplit(url)
    address = urllib.parse.urlunsplit(parts._replace(fragment=""))
    target = cached_path(url)
    folder, name = os.path.split(target)
    if os.path.isfile(target):
        logger.info("using cached %s for %s", target, url)
        return target
    os.makedirs(folder, exist_ok=True)
    with _locked(os.path.join(folder, ".lock")):
        if os.path.isfile(target):  # another process finished it while we waited
            return target
        return _fetch(url, address, parts.fragment, name, target, progress)


def _fetch(url: str, address: str, fragment: str, name: str, target: str,
           progress: bool | None) -> str:
    """Download ``address`` to ``target`` through ``target.part`` (see :func:`download`)."""
    from tqdm import tqdm

    partial = target + ".part"
    offset = os.path.getsize(partial) if os.path.isfile(partial) else 0
    try:
        stream, total, resumed = _open_url(address, offset)
        if not resumed:
            offset = 0
        with stream, open(partial, "ab" if resumed else "wb") as out, tqdm(
                total=total if total >= 0 else None, initial=offset, unit="B", unit_scale=True,
                desc=name, disable=(None if progress is None else not progress)) as bar:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                out.write(chunk)
                bar.update(len(chunk))
    except (OSError, urllib.error.URLError) as e:
        raise ConfigError(f"cannot download '{url}': {e}; the partial file '{partial}' is kept "
                          f"and the next run resumes it (or download the file yourself and set "
                          f"its path)") from e
    size = os.path.getsize(partial)
    if total >= 0 and size != total:
        raise ConfigError(f"download of '{url}' incomplete: {size} of {total} bytes; run again "
                          f"to resume from '{partial}'")
    _check_digest(partial, fragment, url)
    os.replace(partial, target)
    logger.info("downloaded %s to %s", url, target)
    return target


def _safe_extract(archive: str, dest: str) -> None:
    """Extract a zip or tar archive into ``dest`` refusing members outside it."""
    if archive.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            bad = z.testzip()
            if bad is not None:
                raise ConfigError(f"archive '{archive}' is corrupt (member '{bad}')")
            root = os.path.realpath(dest)
            for member in z.namelist():
                where = os.path.realpath(os.path.join(dest, member))
                if not where.startswith(root + os.sep) and where != root:
                    raise ConfigError(f"archive '{archive}': member '{member}' would be "
                                      f"extracted outside the target folder")
            z.extractall(dest)
        return
    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")


def extract_cached(archive: str) -> str:
    """Extract ``archive`` once into ``<cache>/extracted/<name>-<hash>`` and return that folder.

    The key hashes the archive's real path, size and modification time, so a replaced archive is
    extracted again. Extraction goes to a temporary folder renamed when complete.

    Raises:
        ConfigError: The archive is corrupt or unsafe (a cached download is then removed, so the
            next run downloads it again).
    """
    real = os.path.realpath(archive)
    stat = os.stat(real)
    stem = os.path.basename(real)
    for suffix in ARCHIVE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[:-len(suffix)]
            break
    dest = os.path.join(cache_dir(), "extracted",
                        f"{stem}-{_key(f'{real}|{stat.st_size}|{stat.st_mtime_ns}')}")
    if os.path.isdir(dest):
        return dest
    tmp = f"{dest}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        _safe_extract(real, tmp)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ConfigError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if real.startswith(os.path.realpath(os.path.join(cache_dir(), "downloads")) + os.sep):
            os.remove(real)
        message = str(e) if isinstance(e, ConfigError) else f"cannot extract '{archive}': {e}"
        raise ConfigError(f"{message}; use a .zip, .tar.gz or .tar archive holding a folder "
                          f"with {MODEL_FILENAME}") from e
    try:
        os.rename(tmp, dest)
    except OSError:  # extracted concurrently by another process
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("extracted %s to %s", archive, dest)
    return dest


def resolve_weights_path(path: str | os.PathLike, progress: bool | None = None) -> str:
    """Return the local weights file ``path`` designates, downloading and extracting if needed.

    Args:
        path: A ``.pdparams`` file; a directory containing ``model.pdparams``; an archive
            (``.zip``, ``.tar.gz``, ``.tgz``, ``.tar``) holding ``model.pdparams`` (in a folder, as
            PaddleSeg publishes its weights); an ``http(s)://`` or ``file://`` URL to a file
            or archive; or ``zoo:NAME``, a PaddleSeg release by name, i.e. its URL (see
            :mod:`humanseg.utils.zoo`). URLs are downloaded once into :func:`cache_dir` and
            archives extracted there (see :func:`download` and :func:`extract_cached`).
        progress: Show a download progress bar (``None``: only on a terminal).

    Raises:
        ConfigError: Missing file, failed or corrupt download, archive without weights, unknown
            zoo name.
    """
    path = os.fspath(path)
    if is_zoo(path):
        path = weights_url(path)
    if is_url(path):
        path = download(path, progress=progress)
    if is_archive(path) and os.path.isfile(path):
        return _weights_in_dir(extract_cached(path), source=path)
    if os.path.isdir(path):
        candidate = os.path.join(path, MODEL_FILENAME)
        if not os.path.isfile(candidate):
            raise ConfigError(f"pretrained weights: directory '{path}' has no {MODEL_FILENAME}; "
                              f"point to the .pdparams file itself")
        return candidate
    if not os.path.isfile(path):
        raise ConfigError(f"pretrained weights file not found: '{path}'; check the path "
                          f"(a .pdparams file, a directory containing {MODEL_FILENAME}, an "
                          f"archive or a URL)")
    return path


def _weights_in_dir(root: str, source: str) -> str:
    """The ``model.pdparams`` in ``root`` or in one of its sub-folders (exactly one), else the
    only ``.pdparams`` file there."""
    found, others = [], []
    for folder, _, files in os.walk(root):
        for f in files:
            if f == MODEL_FILENAME:
                found.append(os.path.join(folder, f))
            elif f.endswith(".pdparams"):
                others.append(os.path.join(folder, f))
    if len(found) == 1 or (not found and len(others) == 1):
        return (found or others)[0]
    what = found or others
    raise ConfigError(f"pretrained archive '{source}': expected one {MODEL_FILENAME}, found "
                      f"{len(what)}" + (f" ({', '.join(os.path.relpath(w, root) for w in what)})"
                                        if what else "") +
                      "; use an archive holding a single model folder")
