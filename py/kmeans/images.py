"""Reading image files into arrays and writing quantized images as indexed PNGs.

Pillow is imported inside the functions: the browser worker loads Pillow
only when the user first downloads a PNG, so importing :mod:`kmeans` must
not pull it in.
"""

from __future__ import annotations

import io
import os

import numpy as np

from .options import FILE_MAX_MEGAPIXELS, MAX_PALETTE_SIZE
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
    max_megapixels : float, default=FILE_MAX_MEGAPIXELS (50)
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
    from PIL import Image, ImageOps, UnidentifiedImageError

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
        with Image.open(io.BytesIO(data)) as opened:
            megapixels = opened.width * opened.height / 1e6
            if megapixels > max_megapixels:
                raise ValueError(
                    f"{name} is {opened.width}x{opened.height} ({megapixels:.1f} megapixels); "
                    f"the limit is {max_megapixels:g} megapixels: scale it down first"
                )
            opened.seek(0)  # the first frame of an animation
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except UnidentifiedImageError:
        raise ValueError(
            f"{name} is not an image this tool can read; accepted formats: {ACCEPTED_FORMATS}"
        ) from None
    except Image.DecompressionBombError:
        raise ValueError(
            f"{name} is too large to decode safely; the limit is {max_megapixels:g} megapixels"
        ) from None
    except (OSError, SyntaxError, EOFError) as error:
        raise ValueError(f"{name} is corrupt or truncated and cannot be decoded ({error})") from None
    if picture.mode == "I" or picture.mode.startswith("I;16"):
        # 16-bit greyscale (PNG, TIFF): convert() would clip every value above
        # 255 to white, so keep the high byte of each 16-bit value instead.
        grey = np.clip(np.asarray(picture).astype(np.int64) >> 8, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode in ("P", "L", "RGB") and "transparency" in picture.info
    )
    return np.asarray(picture.convert("RGBA" if has_alpha else "RGB"))


def encode_png(quantized: QuantizedImage, *, compress_level: int = 6) -> bytes:
    """Encode a quantized image as an indexed (palette) PNG.

    The PNG uses the fewest bits per pixel that hold the palette (1, 2, 4 or
    8, see :func:`png_bits`); a palette with alpha is written as a tRNS chunk.

    Parameters
    ----------
    quantized : QuantizedImage
    compress_level : int, default=6
        zlib level, 0-9. Level 9 saves a few percent more on photos but takes
        several times as long.

    Returns
    -------
    png : bytes
    """
    from PIL import Image

    palette = quantized.palette
    height, width = quantized.indices.shape
    indices = np.ascontiguousarray(quantized.indices, dtype=np.uint8)
    picture = Image.frombytes("P", (width, height), indices.tobytes())
    picture.putpalette(np.ascontiguousarray(palette[:, :3]).tobytes(), rawmode="RGB")
    # Without a "bits" option Pillow sizes PLTE to the palette and picks the
    # fewest bits per pixel itself; "bits" would pad PLTE to 2**bits entries.
    options = {"compress_level": compress_level}
    if palette.shape[1] == 4:
        options["transparency"] = palette[:, 3].tobytes()
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def save_png(quantized: QuantizedImage, path, **options) -> int:
    """Write :func:`encode_png` output to `path`; return the number of bytes written."""
    png = encode_png(quantized, **options)
    with open(path, "wb") as handle:
        handle.write(png)
    return len(png)
