"""Strict reader of IDX files (LeCun's MNIST format), gzipped or not."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from ._sources import DataFormatError

#: IDX magic numbers for unsigned-byte data: 0x0000 08 03 = uint8, 3 dims (images);
#: 0x0000 08 01 = uint8, 1 dim (labels).
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx_bytes(path: Path) -> bytes:
    """The uncompressed bytes of an IDX file (``.gz`` is decompressed)."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile is an OSError; a cut-off stream gives EOFError.
        raise DataFormatError(f"{path}: not a valid gzip file ({exc})") from None


def parse_idx(data: bytes, path: Path, *, magic: int) -> np.ndarray:
    """Parse IDX bytes into a uint8 array, checking magic number, dimensions and payload length.

    Args:
        data: The uncompressed file content.
        path: The file name, for error messages.
        magic: The expected magic number (`IMAGES_MAGIC` or `LABELS_MAGIC`).

    Returns:
        A uint8 array of the shape in the header.

    Raises:
        DataFormatError: The header or payload does not match (message names the file).

    Examples:
        >>> parse_idx(read_idx_bytes(p), p, magic=LABELS_MAGIC).shape  # doctest: +SKIP
        (10000,)
    """
    if len(data) < 4:
        raise DataFormatError(f"{path}: {len(data)} bytes, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        raise DataFormatError(
            f"{path}: wrong IDX magic number 0x{found:08x}; expected 0x{magic:08x} "
            f"(uint8 {kind}). The file is corrupted or is not an MNIST {kind} file.")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{path}: {len(data)} bytes, too short for its IDX header")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    payload = len(data) - header
    if payload != expected:
        raise DataFormatError(
            f"{path}: IDX payload has {payload} bytes but the header's dimensions {dims} need "
            f"{expected} (the file is truncated or corrupted).")
    # Copied so callers get an ordinary writable array, as from an npz file.
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def idx_md5(array: np.ndarray) -> str:
    """MD5 of the array encoded as an uncompressed IDX file.

    This makes any source (IDX, re-gzipped IDX, npz) comparable with the published MD5s of the
    original uncompressed MNIST files.
    """
    magic = 0x00000800 | array.ndim
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(magic.to_bytes(4, "big"))
    digest.update(b"".join(int(d).to_bytes(4, "big") for d in array.shape))
    digest.update(np.ascontiguousarray(array, dtype=np.uint8).data)
    return digest.hexdigest()
