"""Reading an .npz file that may be damaged, with a message of our own.

`np.load` on a file that is not a zip archive guesses it is a pickle and, with
`allow_pickle=False`, advises loading it "unsafely"; nothing here ever unpickles, so the advice
would only mislead. `read_npz` says what is wrong instead.
"""

from __future__ import annotations

import pathlib
import zipfile

import numpy as np


class UnreadableNpz(ValueError):
    """The file is not a readable .npz archive; the message names it and says why."""


def read_npz(path) -> dict[str, np.ndarray]:
    """Every array of the .npz archive at `path`, loaded now, never unpickling.

    Raises FileNotFoundError if there is no such file, UnreadableNpz if it is not a zip archive,
    is truncated, or holds anything but plain arrays.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise UnreadableNpz(f"{path}: not an .npz archive (no zip structure; damaged or another "
                            "kind of file)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise UnreadableNpz(f"{path}: holds Python objects, not plain arrays (never loaded)") from None
        raise UnreadableNpz(f"{path}: not a readable .npz archive ({error})") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise UnreadableNpz(f"{path}: not a readable .npz archive ({type(error).__name__}: "
                            f"{error})") from None
