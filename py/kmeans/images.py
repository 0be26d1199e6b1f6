"""Reading image files into arrays and writing quantized images as indexed PNGs.

Pillow reads the files and is imported inside :func:`load_image`, so that
importing :mod:`kmeans` does not pull it in. PNGs are written with zlib
alone (:func:`encode_png`), so the browser worker needs no Pillow to write
the download.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import warnings
import zlib
from typing import NamedTuple

import numpy as np

from .options import FILE_MAX_MEGAPIXELS, MAX_PALETTE_SIZE, too_many_pixels
from .quantize import QuantizedImage

#: Formats named in error messages (what Pillow reads everywhere we run).
ACCEPTED_FORMATS = "PNG, JPEG, GIF, WebP, BMP, TIFF"


def png_bits(n_colors: int) -> int:
    """Fewest bits per pixel (1, 2, 4 or 8) of a PNG palette holding `n_colors` entries.

    Examples
    --------
    >>> [png_bits(n) for n in (1, 2, 3, 4, 5, 16, 17, 256)]
    [1, 1, 2, 2, 4, 4, 8, 8]
    """
    for bits in (1, 2, 4, 8):
        if n_colors <= 1 << bits:
            return bits
    raise ValueError(f"a PNG palette holds at most {MAX_PALETTE_SIZE} colours, got {n_colors}")


def load_image(source, *, name: str | None = None, max_megapixels: float = FILE_MAX_MEGAPIXELS):
    """Decode an image file into an RGB or RGBA uint8 array.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
        A path, or the file's bytes.
    name : str, optional
        The file name to use in error messages (defaults to the path).
    max_megapixels : float, default=FILE_MAX_MEGAPIXELS (150)
        Refuse larger images before decoding them.

    Returns
    -------
    image : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
        RGBA only when the file has transparency. The EXIF orientation of
        photos is applied, as viewers do.

    Raises
    ------
    ValueError
        If the file is empty, not an image, corrupt or truncated, or larger
        than `max_megapixels`.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, (str, os.PathLike)):
        name = name or os.fspath(source)
        with open(source, "rb") as handle:
            data = handle.read()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read()
    name = name or "the file"
    if not data:
        raise ValueError(f"{name} is empty (0 bytes); choose an image file ({ACCEPTED_FORMATS})")
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 megapixels (a possible decompression bomb); the limit here is ours.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _decode(Image.open(io.BytesIO(data)), name, max_megapixels)
    except UnidentifiedImageError:
        if _is_svg(data):
            raise ValueError(
                f"{name} is an SVG drawing (shapes, not pixels), which cannot be compressed: export it as "
                f"a PNG first; accepted formats: {ACCEPTED_FORMATS}"
            ) from None
        raise ValueError(
            f"{name} is not an image this tool can read; accepted formats: {ACCEPTED_FORMATS}"
        ) from None
    except Image.DecompressionBombError:
        raise ValueError(
            f"{name} is too large to decode safely; the limit is {max_megapixels:g} megapixels: "
            f"scale it down first"
        ) from None
    except (OSError, SyntaxError, EOFError) as error:
        raise ValueError(f"{name} is corrupt or truncated and cannot be decoded ({error})") from None


def _is_svg(data: bytes) -> bool:
    """Whether a file Pillow cannot read is an SVG drawing: an ``<svg`` element near its start."""
    return b"<svg" in data[:1024].lower()


def _decode(opened, name, max_megapixels) -> np.ndarray:
    """The pixels of an opened image file, refused before decoding when over `max_megapixels`."""
    from PIL import ImageOps

    with opened:
        if opened.width * opened.height > max_megapixels * 1e6:
            raise ValueError(too_many_pixels(name, opened.width, opened.height, max_megapixels))
        opened.seek(0)  # the first frame of an animation
        ImageOps.exif_transpose(opened, in_place=True)  # (not in place, it copies even an upright image)
        opened.load()
        return _pixels(opened)  # inside: closing the file frees the pixels


def _pixels(picture) -> np.ndarray:
    """A decoded Pillow image as (height, width, 3 or 4) uint8: RGBA only when it has transparency."""
    if picture.mode == "I" or picture.mode.startswith("I;16"):
        # 16-bit greyscale (PNG, TIFF): convert() would clip every value above
        # 255 to white, so keep the high byte of each 16-bit value instead.
        grey = np.clip(np.asarray(picture).astype(np.int64) >> 8, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode in ("P", "L", "RGB") and "transparency" in picture.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    return np.asarray(picture if picture.mode == mode else picture.convert(mode))


#: zlib settings tried by :func:`encode_png`: (strategy, memLevel). Palette images compress best
#: unfiltered at level 9; which strategy wins depends on the image (dithered ones differ).
_ZLIB_TRIALS = ((zlib.Z_DEFAULT_STRATEGY, 9), (zlib.Z_FILTERED, 9))

#: Above this many pixels only the first trial runs: each trial costs a full compression.
PNG_TRIAL_MAX_PIXELS = 4_000_000

#: The zlib strategy and memLevel of a big image's PNG (the first trial): :func:`png_parts` and
#: :func:`deflate_piece` use them, so pieces made anywhere are those of :func:`encode_png`.
PIECE_STRATEGY, PIECE_MEM_LEVEL = _ZLIB_TRIALS[0]


#: Above this many bytes of scanlines, :func:`deflate` compresses in pieces of this size, natively on
#: several threads at once. The pieces do not depend on the number of threads: the bytes are the same.
DEFLATE_PIECE = 1 << 19

#: Each piece starts with this much of the data before it as its dictionary (zlib's whole window),
#: so that cutting the stream costs next to nothing (a few bytes per piece).
DEFLATE_PIECE_WINDOW = 1 << 15


def deflate(raw, level: int = 9, mem_level: int = 9, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> bytes:
    """A zlib stream of `raw` (bytes-like): one compression up to ``DEFLATE_PIECE`` bytes, else pieces joined.

    A big image's scanlines are cut into pieces of ``DEFLATE_PIECE`` bytes
    (:func:`deflate_piece`), each compressed on its own (primed with the 32 KB
    before it, as pigz does) and ended on a byte boundary with a sync flush,
    so that the raw deflate streams simply follow one another; the zlib
    header and the Adler-32 of the whole wrap them (:func:`join_pieces`).
    zlib releases Python's lock while it compresses, so natively the pieces
    run on the machine's cores; in WebAssembly (no threads) they run one
    after the other, to the same bytes (the page's worker hands some of them
    to a helper worker instead).
    """
    view = memoryview(raw).cast("B")
    if len(view) <= DEFLATE_PIECE:
        compressor = zlib.compressobj(level, zlib.DEFLATED, 15, mem_level, strategy)
        return compressor.compress(view) + compressor.flush()
    starts = range(0, len(view), DEFLATE_PIECE)

    def piece(start):
        stop = start + DEFLATE_PIECE
        return deflate_piece(view[:stop], start, last=stop >= len(view), level=level, mem_level=mem_level,
                             strategy=strategy)

    threads = min(os.cpu_count() or 1, len(starts))
    if threads > 1 and sys.platform != "emscripten":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            pieces = list(pool.map(piece, starts))
    else:
        pieces = [piece(start) for start in starts]
    return join_pieces(pieces, zlib.adler32(view), level)


def deflate_piece(data, start: int, *, last: bool, level: int = 9, mem_level: int = PIECE_MEM_LEVEL,
                  strategy: int = PIECE_STRATEGY) -> bytes:
    """One piece of :func:`deflate`'s stream: ``data[start:]`` as raw deflate, primed with what comes before.

    Parameters
    ----------
    data : bytes-like
        The piece, after up to 32 KB of the data before it (``data[:start]``,
        of which zlib uses the last 32 KB as its dictionary). The first
        piece has ``start=0``.
    start : int
        Where the piece begins in `data`.
    last : bool
        Whether it is the stream's last piece (it then ends the stream,
        else it ends on a byte boundary with a sync flush).

    Returns
    -------
    bytes
        A raw deflate stream, independent of the other pieces: compressed
        anywhere (another thread, another worker), it gives the same bytes.
    """
    view = memoryview(data).cast("B")
    window = view[max(0, start - DEFLATE_PIECE_WINDOW) : start]
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, mem_level, strategy, *([window] if start else []))
    return compressor.compress(view[start:]) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def join_pieces(pieces, adler32: int, level: int = 9) -> bytes:
    """The zlib stream of :func:`deflate_piece`'s pieces, in order, given the Adler-32 of all the data."""
    return _zlib_header(level) + b"".join(pieces) + struct.pack(">I", adler32)


def _zlib_header(level: int) -> bytes:
    """The two bytes zlib itself writes first at `level` (deflate, 32 KB window; RFC 1950)."""
    speed = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    flags = speed << 6
    flags += 31 - (0x78 * 256 + flags) % 31
    return bytes([0x78, flags])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _packed_rows(indices, bits, sub_filter=False) -> np.ndarray:
    """The image's rows as PNG scanlines: a filter byte and the indices packed `bits` to a byte.

    The filter is 0 (none), or with `sub_filter` 1 ("Sub": each byte minus the one to its left),
    which pays on dithered images whose palette is ordered by lightness.
    """
    height, width = indices.shape
    per_byte = 8 // bits
    row_bytes = -(-width // per_byte)
    padded = np.zeros((height, row_bytes * per_byte), dtype=np.uint8)
    padded[:, :width] = indices
    groups = padded.reshape(height, row_bytes, per_byte)
    packed = np.zeros((height, row_bytes), dtype=np.uint8)
    for j in range(per_byte):  # the first pixel in the high bits
        packed |= groups[:, :, j] << (8 - bits * (j + 1))
    scanlines = np.zeros((height, row_bytes + 1), dtype=np.uint8)
    scanlines[:, 1:] = packed
    if sub_filter:
        scanlines[:, 0] = 1
        scanlines[:, 2:] -= packed[:, :-1]  # modulo 256, as PNG defines it
    return scanlines


def encode_png(quantized: QuantizedImage, *, compress_level: int = 9) -> bytes:
    """Encode a quantized image as an indexed (palette) PNG, as small as zlib makes it.

    The PNG uses the fewest bits per pixel that hold the palette (1, 2, 4 or
    8, see :func:`png_bits`) and zlib at `compress_level`. Up to 4 megapixels
    it tries two zlib strategies and, for 8-bit images, a second layout (the
    palette ordered by lightness, rows "Sub"-filtered, which suits dithered
    images), and keeps the smallest. Entries with alpha go first, so the tRNS
    chunk that holds their alpha is short. The picture is always the same.

    Parameters
    ----------
    quantized : QuantizedImage
    compress_level : int, default=9
        zlib level, 0-9; 9 writes the smallest files, 6 is faster on big images.

    Returns
    -------
    png : bytes
    """
    palette, indices, opaque, bits = _png_input(quantized)
    small = indices.size <= PNG_TRIAL_MAX_PIXELS
    best = None
    # Two layouts: the palette as given (by use) unfiltered, and (8-bit, small images) ordered by
    # lightness with the Sub filter. Entries with alpha go first either way, for a short tRNS.
    for by_lightness in (False, True) if bits == 8 and small else (False,):
        ordered, raw = _layout(palette, indices, opaque, bits, by_lightness)
        for strategy, mem_level in _ZLIB_TRIALS if small else _ZLIB_TRIALS[:1]:
            data = deflate(raw, compress_level, mem_level, strategy)
            if best is None or len(data) < len(best[0]):
                best = (data, ordered)
    data, ordered = best
    return finish_png(_png_head(indices.shape, bits, ordered, opaque), data)


class PngParts(NamedTuple):
    """A big image's PNG before its scanlines are deflated: see :func:`png_parts`."""

    #: The file's bytes before its image data: signature, IHDR, PLTE and (with alpha) tRNS.
    head: bytes
    #: ndarray of shape (height, row bytes + 1), uint8: the scanlines to deflate.
    scanlines: np.ndarray
    #: The zlib settings of :func:`deflate` (and :func:`deflate_piece`).
    level: int
    mem_level: int
    strategy: int


def png_parts(quantized: QuantizedImage, *, compress_level: int = 9) -> PngParts:
    """:func:`encode_png` for an image above 4 megapixels, up to its one compression.

    Such an image has one layout and one zlib setting, so
    ``finish_png(parts.head, deflate(parts.scanlines, parts.level,
    parts.mem_level, parts.strategy))`` is ``encode_png(quantized)``, to the
    byte. The page's worker deflates the scanlines in pieces
    (:func:`deflate_piece`), some of them in a helper worker, and joins them
    (:func:`join_pieces`).

    Raises
    ------
    ValueError
        If the image has 4 megapixels or fewer (:func:`encode_png` tries
        several layouts for those).
    """
    palette, indices, opaque, bits = _png_input(quantized)
    if indices.size <= PNG_TRIAL_MAX_PIXELS:
        raise ValueError(f"png_parts is for images above {PNG_TRIAL_MAX_PIXELS:,} pixels; use encode_png")
    ordered, raw = _layout(palette, indices, opaque, bits, by_lightness=False)
    head = _png_head(indices.shape, bits, ordered, opaque)
    return PngParts(head, raw, compress_level, PIECE_MEM_LEVEL, PIECE_STRATEGY)


def finish_png(head: bytes, zlib_stream: bytes) -> bytes:
    """The PNG file: `head` (from :func:`png_parts`), the image data `zlib_stream` and the end."""
    return head + _chunk(b"IDAT", zlib_stream) + _chunk(b"IEND", b"")


def _png_input(quantized: QuantizedImage):
    """The palette (checked), the indices, whether every entry is opaque, and the bits per pixel."""
    palette = np.asarray(quantized.palette, dtype=np.uint8)
    indices = np.ascontiguousarray(quantized.indices, dtype=np.uint8)
    if not 1 <= palette.shape[0] <= MAX_PALETTE_SIZE:
        raise ValueError(f"a PNG palette holds 1 to {MAX_PALETTE_SIZE} colours, got {palette.shape[0]}")
    opaque = palette.shape[1] == 3 or bool((palette[:, 3] == 255).all())
    return palette, indices, opaque, png_bits(palette.shape[0])


def _layout(palette, indices, opaque, bits, by_lightness):
    """The palette in its order in the file, and the scanlines: by use, or by lightness and Sub-filtered."""
    key = _lightness(palette) if by_lightness else np.arange(palette.shape[0])
    order = np.lexsort((key, np.zeros(palette.shape[0]) if opaque else palette[:, 3] == 255))
    position = np.empty(palette.shape[0], dtype=np.uint8)
    position[order] = np.arange(palette.shape[0])
    return palette[order], _packed_rows(position[indices], bits, sub_filter=by_lightness)


def _png_head(shape, bits, ordered, opaque) -> bytes:
    """Signature, IHDR, PLTE and (with alpha) tRNS: a PNG's bytes before its image data."""
    height, width = shape
    header = struct.pack(">IIBBBBB", width, height, bits, 3, 0, 0, 0)
    chunks = [_chunk(b"IHDR", header), _chunk(b"PLTE", np.ascontiguousarray(ordered[:, :3]).tobytes())]
    if not opaque:
        chunks.append(_chunk(b"tRNS", ordered[: int(np.count_nonzero(ordered[:, 3] < 255)), 3].tobytes()))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _lightness(palette) -> np.ndarray:
    """A lightness key per entry (Rec. 601 weights on the sRGB values): near keys, near colours."""
    rgb = palette[:, :3].astype(np.int64)
    return rgb[:, 0] * 299 + rgb[:, 1] * 587 + rgb[:, 2] * 114


def save_png(quantized: QuantizedImage, path, **options) -> int:
    """Write :func:`encode_png` output to `path`; return the number of bytes written."""
    png = encode_png(quantized, **options)
    with open(path, "wb") as handle:
        handle.write(png)
    return len(png)
