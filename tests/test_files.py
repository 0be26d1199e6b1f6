"""kmeans.files: one file's whole job (compress_file), the inputs of a batch, safe writes."""

from __future__ import annotations

import os

import pytest
from kmeans import QuantizeOptions, compress_file, encode_png, load_image, quantize_image
from kmeans.files import collect_images, describe_error, output_name, write_atomically


def test_compress_file_writes_what_quantize_image_gives(photo_files, tmp_path):
    source = photo_files[0]
    result = compress_file(source, tmp_path / "x.png", options=QuantizeOptions(n_colors=8))
    assert result.status == "written" and result.error is None
    expected = encode_png(quantize_image(load_image(source), 8))
    assert (tmp_path / "x.png").read_bytes() == expected
    assert (result.bytes_before, result.bytes_after) == (os.path.getsize(source), len(expected))
    assert result.n_colors == 8 and result.trials == 1 and -100 < result.score < 100  # a tiny photo: low


def test_compress_file_reports_a_bad_file_instead_of_raising(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = compress_file(bad)
    assert result.status == "failed"
    assert result.error == f"{bad} is not an image this tool can read; accepted formats: PNG, JPEG, GIF, WebP, BMP, TIFF"
    assert result.line() == result.error  # it names the file already: not "notes.png: notes.png is ..."
    assert not (tmp_path / "notes-16colors.png").exists()
    missing = compress_file(tmp_path / "gone.jpg")
    assert missing.status == "failed" and missing.error == f"{tmp_path / 'gone.jpg'}: no such file"
    assert missing.line() == missing.error


def test_compress_file_names_its_output_by_the_target(photo_files):
    result = compress_file(photo_files[1], max_kb=4)
    assert result.output == str(photo_files[1].parent / "b-4kb.png")
    assert os.path.getsize(result.output) <= 4 * 1024 and result.target_met
    assert output_name("p.jpg", max_kb=200, min_quality=70) == "p-200kb-q70.png"


def test_collect_images_walks_folders_in_name_order_and_leaves_our_outputs_out(tmp_path):
    for name in ["b.jpg", "a.PNG", "a-16colors.png", "a-200kb.png", "a-q70.png", "readme.txt", "sub/c.gif",
                 "sub/deeper/d.webp"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    found = collect_images([str(tmp_path)], recursive=True)
    assert [(os.path.relpath(f, tmp_path), sub) for f, sub in found] == [
        ("a.PNG", ""), ("b.jpg", ""), ("sub/c.gif", "sub"), ("sub/deeper/d.webp", "sub/deeper")]
    assert [os.path.basename(f) for f, _ in collect_images([str(tmp_path)])] == ["a.PNG", "b.jpg"]
    # A file named directly is always taken, whatever its name.
    assert collect_images([str(tmp_path / "a-16colors.png")]) == [(str(tmp_path / "a-16colors.png"), "")]
    with pytest.raises(ValueError, match="no such file or folder"):
        collect_images([str(tmp_path / "nowhere")])


def test_write_atomically_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    path.write_bytes(b"before")
    write_atomically(str(path), b"after")
    assert path.read_bytes() == b"after"

    def full_disk(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left") as raised:
        write_atomically(str(path), b"never")
    assert path.read_bytes() == b"after"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary file left
    # The message names the file asked for, not the temporary one.
    assert describe_error(raised.value) == f"{path} cannot be written (no space left on device)"


def test_a_png_that_cannot_be_written_is_named_in_the_message(tmp_path):
    path = tmp_path / "no-such-folder" / "out.png"
    with pytest.raises(OSError) as raised:
        write_atomically(str(path), b"png")
    assert raised.value.filename == str(path)
    assert describe_error(raised.value) == f"{path} cannot be written (no such file or directory)"
