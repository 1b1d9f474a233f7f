"""Where the real data sets come from: a local folder, the cache, or a checksummed download.

The loaders (`load_ethanol`, `load_mnist`, `load_uci_regression`) share these rules so that one
`--data-dir` option on a command line serves them all:

1. an explicit ``data_dir`` argument;
2. else the environment variable ``TF_OVERPARAM_DATA_DIR`` (read only in `env_data_dir`);
3. else the cache folder ``$XDG_CACHE_HOME/tf_overparam`` (default ``~/.cache/tf_overparam``);
4. else a download into that cache, written atomically and only after its sha256 matched.

A folder given by 1 or 2 may hold the files directly, or be a *root* holding one subfolder per
data set (``gas_sensor_drift/``, ``mnist/``, ``uci_regression/``), the layout of the shared
data root and of the cache.
A folder named by the user is authoritative: if it lacks the data we raise instead of silently
downloading elsewhere, because a typo in a path must not turn into a surprise download.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

#: The one environment variable naming a local data folder (a root or a data-set folder).
DATA_DIR_ENV_VAR = "TF_OVERPARAM_DATA_DIR"

#: Allowed values of every loader's ``verify_checksums`` argument.
CHECKSUM_POLICIES = ("error", "warn")

#: Seconds a download may take to get an answer from the server. Kept short on purpose: offline,
#: a loader must fail within 5 s instead of leaving the user waiting on retries.
CONNECT_TIMEOUT_S = 4.0

#: Seconds a started download may stall between two chunks before it is abandoned.
READ_TIMEOUT_S = 30.0

#: Where to look for help, appended to every "not found" message.
HOW_TO_SUPPLY = (
    "To use a local copy, pass data_dir=<folder> (CLI: --data-dir <folder>) or set "
    f"{DATA_DIR_ENV_VAR}=<folder>, where <folder> holds the files directly or is a root folder "
    "holding gas_sensor_drift/, mnist/ and uci_regression/. Details: "
    "`python -m pydoc tf_overparam.datasets`."
)


class DataNotFoundError(FileNotFoundError):
    """The data set (or part of it) is neither in a local folder nor downloadable."""


class DataFormatError(ValueError):
    """A data file is malformed (the message names the file and, for text, the line)."""


class ChecksumError(ValueError):
    """A file's checksum differs from the official one."""


class PartialDataWarning(UserWarning):
    """Loaded an incomplete data set because the caller opted in (``allow_partial=True``)."""


def env_data_dir() -> Path | None:
    """The folder named by ``TF_OVERPARAM_DATA_DIR``, or None when unset or empty.

    This is the only place the variable is read, so its name and meaning stay in one spot.
    """
    value = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    return Path(value).expanduser() if value else None


def default_cache_root() -> Path:
    """The cache root, ``$XDG_CACHE_HOME/tf_overparam`` or ``~/.cache/tf_overparam``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tf_overparam"


def check_choice(argument: str, value: object, allowed: Sequence[str]) -> None:
    """Raise a ValueError naming ``argument`` and the allowed values if ``value`` is not one."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{argument} must be one of {choices}; got {value!r}.")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (the file is only read, never changed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_url(url: str, connect_timeout: float):
    """urlopen with a hard deadline on getting the response headers.

    The socket timeout of urlopen does not cover DNS resolution, which can hang for much longer
    than 5 s on a machine without network; so the call runs in a daemon thread and we stop
    waiting for it after ``connect_timeout`` seconds.
    """
    result: dict = {}

    def target() -> None:
        try:
            result["response"] = urllib.request.urlopen(url, timeout=READ_TIMEOUT_S)
        except BaseException as exc:  # handed to the caller's thread below
            result["error"] = exc

    thread = threading.Thread(target=target, name="tf_overparam-download", daemon=True)
    thread.start()
    thread.join(connect_timeout)
    if thread.is_alive():
        raise urllib.error.URLError(f"no answer within {connect_timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result["response"]


def fetch(url: str, destination: Path, *, sha256: str,
          connect_timeout: float | None = None) -> Path:
    """Download ``url`` to ``destination``, atomically and only if its sha256 matches.

    The bytes go to a temporary file next to ``destination``; it is renamed into place only
    after the checksum passed, so an interrupted or corrupted download never leaves a
    half-written file where a loader would find it. This is the single function that touches
    the network: tests patch it, or point the URL constants at an unreachable address.

    Args:
        url: The address to download (``http(s)://`` or ``file://``).
        destination: The final path of the file.
        sha256: The expected hex sha256 of the whole file.
        connect_timeout: Seconds to wait for the server's answer; default `CONNECT_TIMEOUT_S`.

    Returns:
        ``destination``.

    Raises:
        urllib.error.URLError: The server could not be reached in time (or answered an error).
        ChecksumError: The downloaded bytes have another sha256 (nothing is left behind).

    Examples:
        >>> fetch("file:///tmp/a.zip", Path("/tmp/cache/a.zip"), sha256="98fe...")  # doctest: +SKIP
    """
    destination = Path(destination)
    timeout = CONNECT_TIMEOUT_S if connect_timeout is None else connect_timeout
    response = _open_url(url, timeout)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                                    suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if actual != sha256:
            raise ChecksumError(
                f"Download of {url} has sha256 {actual}; expected {sha256}. "
                "The file was discarded; nothing was written to "
                f"{destination}.")
        os.replace(tmp, destination)
    finally:
        # Only our own temporary file is ever removed, never a user's data file.
        if tmp.exists():
            tmp.unlink()
    return destination


@dataclass
class Located:
    """Result of `locate`: the data-set folder, how it was found, and every place looked at."""

    folder: Path | None
    origin: str | None
    tried: list[str] = field(default_factory=list)


def _candidates(root: Path, subfolder: str) -> list[Path]:
    # The folder itself first (it may hold the files directly), then the root layout.
    return [root, root / subfolder]


def locate(data_dir: str | os.PathLike | None, *, subfolder: str,
           has_data: Callable[[Path], bool], what: str) -> Located:
    """Find the folder holding a data set, following the documented resolution order.

    Args:
        data_dir: The caller's folder, or None.
        subfolder: The data set's folder name under a root (``gas_sensor_drift`` or ``mnist``).
        has_data: Whether a folder holds (at least part of) the data set.
        what: A short description of the files looked for, for error messages.

    Returns:
        A `Located`; ``folder`` is None when only the cache was searched and it was empty, in
        which case the caller may download into ``default_cache_root() / subfolder``.

    Raises:
        DataNotFoundError: ``data_dir`` or the environment variable names a folder that does not
            exist or does not hold the data.
    """
    user_given = []
    if data_dir is not None:
        user_given.append((Path(data_dir).expanduser(), "data_dir argument"))
    else:
        env_dir = env_data_dir()
        if env_dir is not None:
            user_given.append((env_dir, f"${DATA_DIR_ENV_VAR}"))
    tried: list[str] = []
    # Said whenever a user-named folder fails, since it explains why no download was tried.
    authoritative = (
        "A folder you name is used as is and nothing is downloaded into it; omit data_dir and "
        f"unset {DATA_DIR_ENV_VAR} to use the cache {default_cache_root()} and the download.\n")
    for root, origin in user_given:
        if not root.is_dir():
            state = "is not a folder" if root.exists() else "does not exist"
            raise DataNotFoundError(
                f"Could not load {what}: the folder {root} (from the {origin}) {state}.\n"
                + authoritative + HOW_TO_SUPPLY)
        for folder in _candidates(root, subfolder):
            if folder.is_dir() and has_data(folder):
                return Located(folder, origin, [f"{folder} ({origin})"])
            tried.append(f"{folder} ({origin}): "
                         + ("no such files" if folder.is_dir() else "does not exist"))
        raise DataNotFoundError(
            f"Could not load {what}: none found. Looked in:\n  - " + "\n  - ".join(tried)
            + "\n" + authoritative + HOW_TO_SUPPLY)
    cache = default_cache_root() / subfolder
    if cache.is_dir() and has_data(cache):
        return Located(cache, "cache", [f"{cache} (cache)"])
    tried.append(f"{cache} (cache): " + ("no such files" if cache.is_dir() else "does not exist"))
    if data_dir is None and env_data_dir() is None:
        tried.insert(0, f"data_dir argument: not given; ${DATA_DIR_ENV_VAR}: not set")
    return Located(None, None, tried)


def not_found_error(what: str, tried: list[str], download_note: str) -> DataNotFoundError:
    """The error raised when nothing local was found and the download failed or was off."""
    return DataNotFoundError(
        f"Could not load {what}. Looked in:\n  - " + "\n  - ".join(tried)
        + f"\n  - {download_note}\n" + HOW_TO_SUPPLY)
