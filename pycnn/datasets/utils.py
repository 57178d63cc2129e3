"""Getting dataset files onto disk: checksummed downloads and safe archive extraction.

download_file() streams a URL into a temporary file next to its destination, checks the MD5 published for
it, and only then renames it into place, so an interrupted or corrupted download never looks like a
dataset. extract_archive() unpacks .tar(.gz) archives refusing links, devices and paths that leave the
destination. _fetch() is the only function that touches the network (tests replace it or use file:// URLs).
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

from ..serialization import open_file, path_arg

__all__ = ["calculate_md5", "check_integrity", "download_file", "extract_archive"]

_CHUNK = 1 << 20
_SCHEMES = ("https", "file")  # file:// serves local mirrors (and the tests)


def calculate_md5(path):
    """Hex MD5 digest of the file at `path`, read in 1 MiB chunks.

    Raises:
        TypeError if path is not a path; FileNotFoundError (or the OSError open raised) naming the file.
    """
    return _md5(path, "calculate_md5")


def _md5(path, op):
    md5 = hashlib.md5(usedforsecurity=False)  # the published checksums are MD5; this is integrity only
    with open_file(path, "rb", op) as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_integrity(path, md5=None):
    """True when `path` is a file and, if `md5` is given, its digest matches."""
    path = Path(path_arg(path, "check_integrity"))
    if md5 is not None and not isinstance(md5, str):
        raise TypeError(f"[check_integrity] md5 must be a hex digest str, got {type(md5).__name__}")
    if not path.is_file():
        return False
    return md5 is None or _md5(path, "check_integrity") == md5


def _fetch(url, path, timeout=60):
    """Stream `url` into the file `path` (which exists and is overwritten)."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in _SCHEMES:
        raise RuntimeError(f"[download] only {' and '.join(_SCHEMES)} URLs are fetched, got {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": "pycnn"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(path, "wb") as f:
        shutil.copyfileobj(response, f, _CHUNK)


def download_file(urls, folder, filename, md5, name="download"):
    """Download `filename` into `folder`, trying each URL in turn, and verify its MD5.

    The bytes go to a temporary file in `folder` that is renamed to `filename` only once its checksum
    matches; a file whose checksum does not match is deleted.

    Args:
        urls: a URL or a list of mirror URLs of the same file.
        folder: destination folder (created if missing).
        filename: name of the file in `folder`.
        md5: expected hex MD5 digest.
        name: prefix for messages (the dataset's name).

    Returns:
        Path of the verified file.
    """
    urls = [urls] if isinstance(urls, str) else list(urls) if isinstance(urls, (list, tuple)) else urls
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise TypeError(f"[{name}] urls must be a URL str or a list of them, got {urls!r:.200}")
    if not urls:
        raise ValueError(f"[{name}] urls is empty: no URL to download {filename} from")
    folder = Path(path_arg(folder, name))
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / filename
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
        os.close(fd)
        try:
            print(f"[{name}] downloading {url} to {dest}", file=sys.stderr, flush=True)
            _fetch(url, tmp)
            actual = _md5(tmp, name)
            if actual != md5:
                errors.append(f"{url}: checksum mismatch, expected MD5 {md5}, got {actual} (file deleted)")
                continue
            os.replace(tmp, dest)
            return dest
        except (OSError, ValueError) as e:  # URLError and HTTPError are OSErrors
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(f"[{name}] could not download {filename}:\n  " + "\n  ".join(errors))


def _checked_members(tar, archive, name):
    """The members of `tar`, after refusing anything that could write outside the destination."""
    members = tar.getmembers()
    for m in members:
        parts = PurePosixPath(m.name).parts
        if m.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise RuntimeError(
                f"[{name}] refusing to extract {archive}: member {m.name!r} would be "
                "written outside the destination folder"
            )
        if not (m.isfile() or m.isdir()):
            raise RuntimeError(
                f"[{name}] refusing to extract {archive}: member {m.name!r} is a link or a "
                "special file (only regular files and folders are extracted)"
            )
    return members


def extract_archive(archive, dest, name="extract"):
    """Unpack a .tar, .tar.gz, .tgz, .tar.bz2 or .tar.xz archive into `dest`.

    Every member is checked first (no absolute paths, no '..', only regular files and folders). The
    archive is unpacked into a temporary folder inside `dest` and its files are then moved into place,
    so a corrupt archive leaves no half-extracted dataset behind.

    Returns:
        Path of `dest`.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = _checked_members(tar, archive, name)
                if hasattr(tarfile, "data_filter"):  # Python's own safety net where it exists
                    tar.extractall(tmp, members=members, filter="data")
                else:
                    tar.extractall(tmp, members=members)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            raise RuntimeError(
                f"[{name}] cannot extract {archive}: the archive is corrupt or truncated ({type(e).__name__}: {e})"
            ) from None
        for dirpath, _, filenames in os.walk(tmp):
            target_dir = dest / Path(dirpath).relative_to(tmp)
            target_dir.mkdir(parents=True, exist_ok=True)
            for filename in filenames:
                os.replace(Path(dirpath) / filename, target_dir / filename)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
