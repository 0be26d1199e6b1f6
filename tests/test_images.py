"""Image files: decoding with load_image, indexed PNGs with encode_png / save_png."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from kmeans import QuantizedImage, encode_png, images, load_image, png_bits, quantize_image, save_png
from PIL import Image


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of a PNG file, by type (checking every CRC)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = {}, 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks[kind] = body
        offset += 12 + length
    return chunks


def _quantized(n_colors, alpha=False, shape=(7, 9)):
    """A QuantizedImage using exactly `n_colors` distinct palette entries."""
    rng = np.random.default_rng(n_colors)
    palette = np.unique(rng.integers(0, 256, size=(4 * n_colors, 3), dtype=np.uint8), axis=0)
    palette = palette[rng.permutation(palette.shape[0])[:n_colors]]
    if alpha:
        palette = np.column_stack([palette, rng.integers(0, 256, n_colors, dtype=np.uint8)])
    indices = (np.arange(shape[0] * shape[1]) % n_colors).astype(np.uint8).reshape(shape)
    return QuantizedImage(palette, indices, n_iter=0, sse=0.0)


# -- png_bits -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n_colors, bits",
    [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (255, 8), (256, 8)],
    ids=lambda v: str(v),
)
def test_png_bits(n_colors, bits):
    assert png_bits(n_colors) == bits


def test_png_bits_too_many_colours():
    with pytest.raises(ValueError, match=r"at most 256 colours, got 257"):
        png_bits(257)


# -- encode_png -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n_colors, bit_depth",
    [(1, 1), (2, 1), (3, 2), (4, 2), (16, 4), (17, 8), (256, 8)],
    ids=lambda v: str(v),
)
def test_encode_png_is_a_minimal_palette_png(n_colors, bit_depth):
    quantized = _quantized(n_colors, shape=(20, 30) if n_colors == 256 else (7, 9))
    data = encode_png(quantized)
    chunks = png_chunks(data)
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height) == (quantized.indices.shape[1], quantized.indices.shape[0])
    assert depth == bit_depth
    assert colour_type == 3  # indexed colour
    assert len(chunks[b"PLTE"]) == 3 * n_colors
    assert b"tRNS" not in chunks

    with Image.open(io.BytesIO(data)) as picture:
        assert picture.mode == "P"
        assert picture.size == (width, height)
        assert len(picture.getpalette()) == 3 * n_colors
        np.testing.assert_array_equal(np.asarray(picture), quantized.indices)
        decoded = np.asarray(picture.convert("RGB"))
    np.testing.assert_array_equal(decoded, quantized.to_array())


def test_encode_png_writes_alpha_as_trns():
    quantized = _quantized(5, alpha=True)
    data = encode_png(quantized)
    chunks = png_chunks(data)
    assert chunks[b"tRNS"] == quantized.palette[:, 3].tobytes()
    assert len(chunks[b"PLTE"]) == 15
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.mode == "P"
        decoded = np.asarray(picture.convert("RGBA"))
    np.testing.assert_array_equal(decoded, quantized.to_array())


def test_encode_png_of_a_quantized_photo_round_trips(small_photo):
    result = quantize_image(small_photo, 16, seed=0)
    data = encode_png(result)
    assert struct.unpack(">B", png_chunks(data)[b"IHDR"][8:9]) == (4,)
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.mode == "P"
        decoded = np.asarray(picture.convert("RGB"))
    np.testing.assert_array_equal(decoded, result.to_array())
    # Indexed at 4 bits per pixel, the PNG is smaller than the true-colour original.
    buffer = io.BytesIO()
    Image.fromarray(small_photo).save(buffer, "PNG", compress_level=9)
    assert len(data) < len(buffer.getvalue())


def test_encode_png_round_trips_through_load_image():
    quantized = _quantized(3, alpha=True)
    quantized.palette[0, 3] = 0
    np.testing.assert_array_equal(load_image(encode_png(quantized)), quantized.to_array())


def _scanlines(n_bytes, seed=0):
    """Bytes that compress like a dithered image's rows: runs of a few values with noise."""
    rng = np.random.default_rng(seed)
    runs = rng.integers(0, 6, size=n_bytes // 8 + 1, dtype=np.uint8).repeat(8)[:n_bytes]
    return (runs + (rng.random(n_bytes) < 0.2)).astype(np.uint8).tobytes()


def test_deflate_in_pieces_is_one_zlib_stream_the_same_on_one_thread(monkeypatch):
    monkeypatch.setattr(images, "DEFLATE_PIECE", 1 << 17)  # (a small piece: a quick test)
    raw = _scanlines(3 * images.DEFLATE_PIECE + 12345)
    pieces = images.deflate(raw)
    assert zlib.decompress(pieces) == raw
    assert pieces[:2] == zlib.compress(b"", 9)[:2]  # the header zlib writes at level 9
    whole = zlib.compressobj(9, zlib.DEFLATED, 15, 9)
    whole = whole.compress(raw) + whole.flush()
    assert abs(len(pieces) - len(whole)) <= 0.002 * len(whole)  # each piece starts from the 32 KB before it
    monkeypatch.setattr(images.os, "cpu_count", lambda: 1)
    assert images.deflate(raw) == pieces  # the bytes do not depend on the threads


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_deflate_below_one_piece_is_plain_zlib(level):
    raw = _scanlines(50_000, seed=level)
    compressor = zlib.compressobj(level, zlib.DEFLATED, 15, 9)
    assert images.deflate(raw, level) == compressor.compress(raw) + compressor.flush()


def test_a_png_written_in_pieces_decodes_to_the_same_pixels(monkeypatch):
    monkeypatch.setattr(images, "DEFLATE_PIECE", 4096)
    quantized = _quantized(200, shape=(300, 257))
    data = encode_png(quantized)
    with Image.open(io.BytesIO(data)) as picture:
        np.testing.assert_array_equal(np.asarray(picture.convert("RGB")), quantized.to_array())


def test_deflate_pieces_made_apart_from_slices_join_into_deflates_stream(monkeypatch):
    """Each piece needs only itself and the 32 KB before it: made anywhere, the stream is the same."""
    monkeypatch.setattr(images, "DEFLATE_PIECE", 1 << 16)
    raw = _scanlines(5 * images.DEFLATE_PIECE + 777, seed=3)
    pieces = []
    for start in range(0, len(raw), images.DEFLATE_PIECE):
        stop = start + images.DEFLATE_PIECE
        before = max(0, start - images.DEFLATE_PIECE_WINDOW)
        pieces.append(images.deflate_piece(raw[before:stop], start - before, last=stop >= len(raw)))
    assert images.join_pieces(pieces, zlib.adler32(raw)) == images.deflate(raw)


def test_png_parts_deflated_and_finished_are_encode_png(monkeypatch):
    monkeypatch.setattr(images, "PNG_TRIAL_MAX_PIXELS", 10_000)  # (a big image's path, on a small one)
    for alpha in (False, True):
        quantized = _quantized(200, shape=(150, 257), alpha=alpha)
        parts = images.png_parts(quantized)
        png = images.finish_png(parts.head, images.deflate(parts.scanlines, parts.level, parts.mem_level,
                                                           parts.strategy))
        assert png == encode_png(quantized)
        assert png.startswith(parts.head) and png_chunks(png)[b"IHDR"][8] == 8
    with pytest.raises(ValueError, match="above 10,000 pixels; use encode_png"):
        images.png_parts(_quantized(4, shape=(100, 100)))


def test_save_png_writes_the_encoded_bytes(tmp_path):
    quantized = _quantized(4)
    path = tmp_path / "out.png"
    written = save_png(quantized, path)
    assert written == path.stat().st_size
    assert path.read_bytes() == encode_png(quantized)


# -- load_image -----------------------------------------------------------------------------

def test_load_png_path_bytes_and_file_object(tmp_path, small_photo, encode):
    data = encode(small_photo, "PNG")
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    for source in (path, str(path), data, bytearray(data), io.BytesIO(data)):
        image = load_image(source)
        assert image.dtype == np.uint8
        np.testing.assert_array_equal(image, small_photo)


def test_load_jpeg(small_photo, encode):
    image = load_image(encode(small_photo, "JPEG", quality=95))
    assert image.shape == small_photo.shape
    assert np.abs(image.astype(int) - small_photo).mean() < 5


def test_png_with_transparency_gives_rgba(encode):
    rgba = np.zeros((6, 5, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:3, :, 3] = 255
    image = load_image(encode(rgba, "PNG"))
    assert image.shape == (6, 5, 4)
    np.testing.assert_array_equal(image, rgba)


def test_palette_png_with_trns_gives_rgba():
    picture = Image.new("P", (4, 3))
    picture.putpalette([255, 0, 0, 0, 255, 0])
    picture.putpixel((0, 0), 1)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", transparency=0)
    image = load_image(buffer.getvalue())
    assert image.shape == (3, 4, 4)
    np.testing.assert_array_equal(image[0, 0], [0, 255, 0, 255])
    assert image[1, 1, 3] == 0


def test_opaque_palette_gif_gives_rgb():
    picture = Image.new("P", (4, 3))
    picture.putpalette([255, 0, 0, 0, 255, 0])
    buffer = io.BytesIO()
    picture.save(buffer, "GIF")
    image = load_image(buffer.getvalue())
    assert image.shape == (3, 4, 3)
    np.testing.assert_array_equal(image[0, 0], [255, 0, 0])


@pytest.mark.parametrize("mode", ["L", "1"], ids=["grayscale", "bilevel"])
def test_grayscale_gives_rgb(mode):
    gray = np.tile(np.arange(0, 250, 50, dtype=np.uint8), (3, 1))
    picture = Image.fromarray(gray).convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    image = load_image(buffer.getvalue())
    assert image.shape == (3, 5, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    if mode == "L":
        np.testing.assert_array_equal(image[..., 0], gray)


@pytest.mark.parametrize("format", ["PNG", "TIFF"], ids=["png", "tiff"])
def test_16_bit_grayscale_keeps_its_tones(format):
    # Pillow opens these as mode "I;16"; convert("RGB") clipped every value
    # above 255 to white, so before the fix the gradient came out all white.
    gray16 = np.linspace(0, 65535, 20).astype(np.uint16).reshape(4, 5)
    buffer = io.BytesIO()
    Image.fromarray(gray16).save(buffer, format)
    image = load_image(buffer.getvalue())
    assert image.shape == (4, 5, 3)
    assert image.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(image[..., channel], gray16 >> 8)


def test_grayscale_with_alpha_gives_rgba(encode):
    la = np.zeros((3, 4, 2), np.uint8)
    la[..., 0] = 90
    la[0, :, 1] = 255
    image = load_image(encode(la, "PNG"))
    assert image.shape == (3, 4, 4)
    np.testing.assert_array_equal(image[0, 0], [90, 90, 90, 255])


def test_exif_orientation_is_applied(encode):
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, :30] = [255, 0, 0]  # left half red
    stored[:, 30:] = [0, 0, 255]  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    image = load_image(encode(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert image.shape == (60, 40, 3)
    # After a clockwise quarter turn the left half is on top.
    assert image[:25, :, 0].mean() > 200 and image[:25, :, 2].mean() < 50
    assert image[35:, :, 2].mean() > 200 and image[35:, :, 0].mean() < 50
    # Without the tag nothing turns.
    assert load_image(encode(stored, "JPEG", quality=95)).shape == (40, 60, 3)


def test_first_frame_of_an_animation():
    frames = [Image.new("RGB", (4, 4), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    image = load_image(buffer.getvalue())
    assert image.shape == (4, 4, 3)
    np.testing.assert_array_equal(image[0, 0], [255, 0, 0])


@pytest.mark.parametrize(
    "make, match",
    [(lambda png, jpeg: b"", r"^photo\.x is empty \(0 bytes\); choose an image file \(PNG, JPEG"),
     (lambda png, jpeg: b"definitely not an image" * 20,
      r"^photo\.x is not an image this tool can read; accepted formats: PNG, JPEG"),
     (lambda png, jpeg: png[: len(png) // 2], r"^photo\.x is corrupt or truncated and cannot be"),
     (lambda png, jpeg: jpeg[: len(jpeg) // 2], r"^photo\.x is corrupt or truncated and cannot be"),
     (lambda png, jpeg: png[:40], r"^photo\.x is (corrupt or truncated|not an image)"),
     (lambda png, jpeg: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
      r"^photo\.x is an SVG drawing \(shapes, not pixels\), which cannot be compressed: export it as a PNG "
      r"first; accepted formats: PNG, JPEG")],
    ids=["empty", "garbage", "truncated-png", "truncated-jpeg", "png-header-only", "svg"],
)
def test_bad_files_give_clear_value_errors(small_photo, encode, make, match):
    data = make(encode(small_photo, "PNG"), encode(small_photo, "JPEG"))
    with pytest.raises(ValueError, match=match):
        load_image(data, name="photo.x")


def test_error_names_the_path(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"broken\.png is empty"):
        load_image(path)
    with pytest.raises(ValueError, match=r"^the file is empty"):
        load_image(b"")


def test_too_many_megapixels(small_photo, encode):
    data = encode(small_photo, "PNG")  # 80 x 54 = 0.00432 megapixels
    match = r"big\.png is 80x54 \(0\.0 megapixels\); the limit is 0\.004 megapixels"
    with pytest.raises(ValueError, match=match):
        load_image(data, name="big.png", max_megapixels=0.004)
    assert load_image(data, max_megapixels=0.005).shape == small_photo.shape


def test_decompression_bomb_is_a_value_error(small_photo, encode, monkeypatch):
    # Pillow refuses images over 2 * MAX_IMAGE_PIXELS while opening them.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValueError, match=r"too large to decode safely"):
        load_image(encode(small_photo, "PNG"), max_megapixels=100)


def test_an_image_pillow_calls_a_possible_bomb_is_read_without_a_warning(small_photo, encode, monkeypatch):
    # Pillow warns from MAX_IMAGE_PIXELS (89 megapixels); a photo within our own limit is simply read.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", small_photo.shape[0] * small_photo.shape[1] - 1)
    data = encode(small_photo, "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(load_image(data), small_photo)


def test_the_cli_limit_is_above_the_page_and_below_pillow_refusing():
    from kmeans.options import FILE_MAX_MEGAPIXELS, PAGE_MAX_MEGAPIXELS

    assert PAGE_MAX_MEGAPIXELS >= 100
    assert PAGE_MAX_MEGAPIXELS <= FILE_MAX_MEGAPIXELS < 2 * Image.MAX_IMAGE_PIXELS / 1e6
