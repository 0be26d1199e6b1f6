"""The command line, through ``kmeans.__main__.main(argv)`` (and once as a real process)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from kmeans import __version__
from kmeans.__main__ import count_of, main, output_name, size_change
from PIL import Image

from .support import needs_processes


def _palette_png(path):
    """(mode, size, number of distinct colours used) of a written PNG."""
    with Image.open(path) as picture:
        mode, size = picture.mode, picture.size
        colours = np.unique(np.asarray(picture.convert("RGBA")).reshape(-1, 4), axis=0).shape[0]
    return mode, size, colours


def _one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- compress -------------------------------------------------------------------------------

def test_compress_one_image_beside_it(photo_files, capsys):
    png, _ = photo_files
    assert main(["compress", str(png)]) == 0
    out, err = capsys.readouterr()
    target = png.parent / "a-16colors.png"
    assert target.exists()
    mode, size, colours = _palette_png(target)
    assert mode == "P"
    assert size == (80, 54)
    assert colours <= 16
    assert err == ""
    assert re.search(rf"^{re.escape(str(png))} -> {re.escape(str(target))}: [\d,]+ -> "
                     rf"{target.stat().st_size:,} bytes \([\d.]+x smaller\), 16 colours, "
                     rf"PSNR [\d.]+ dB, SSIMULACRA2 -?[\d.]+, \d+ iterations", out)


def test_compress_a_fully_transparent_image(tmp_path, capsys):
    image = np.zeros((6, 7, 4), np.uint8)
    image[..., 0] = 250  # a hidden colour: alpha is 0 everywhere
    source = tmp_path / "blank.png"
    Image.fromarray(image).save(source)
    target = tmp_path / "out.png"
    assert main(["compress", str(source), "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert ", 1 colour, lossless, SSIMULACRA2 100.0, 0 iterations, " in out
    assert out.rstrip().endswith("s (the image is fully transparent: its palette is one transparent entry)")
    with Image.open(target) as saved:
        assert saved.mode == "P" and saved.getcolors() == [(42, 0)]
        assert not np.asarray(saved.convert("RGBA"))[..., 3].any()


@pytest.mark.parametrize("before, after, words", [(1000, 250, "4.0x smaller"), (100, 120, "1.2x larger"),
                                                   (7, 7, "the same size")])
def test_size_change_in_words(before, after, words):
    assert size_change(before, after) == words


def test_counts_in_words():
    assert [count_of(n, "colour") for n in (0, 1, 2)] == ["0 colours", "1 colour", "2 colours"]


def test_compress_to_output_file(photo_files, tmp_path, capsys):
    _, jpeg = photo_files
    target = tmp_path / "small.png"
    assert main(["compress", str(jpeg), "-k", "4", "-o", str(target), "--seed", "1"]) == 0
    assert "4 colours" in capsys.readouterr().out
    mode, _, colours = _palette_png(target)
    assert (mode, colours) == ("P", 4)
    assert not (jpeg.parent / "b-4colors.png").exists()


def test_compress_folder_shows_progress(photo_files, capsys):
    folder = photo_files[0].parent
    (folder / "notes.txt").write_text("not an image, and not picked up")
    assert main(["compress", str(folder), "-k", "8"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[1/2] ") and "a.png" in lines[0]
    assert lines[1].startswith("[2/2] ") and "b.jpg" in lines[1]
    for name in ("a-8colors.png", "b-8colors.png"):
        assert _palette_png(folder / name)[2] <= 8


def test_compress_several_images_into_an_output_folder(photo_files, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["compress", *map(str, photo_files), "-o", str(out_dir), "-q"]) == 0
    assert capsys.readouterr().out == ""  # --quiet
    assert sorted(p.name for p in out_dir.iterdir()) == ["a-16colors.png", "b-16colors.png"]


def test_compress_several_images_to_one_file_is_refused(photo_files, tmp_path, capsys):
    existing = tmp_path / "x.png"
    existing.write_bytes(b"")
    assert main(["compress", *map(str, photo_files), "-o", str(existing)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "is a file, but several images need an output folder" in line


def test_compress_few_colours_note(tmp_path, capsys):
    image = np.zeros((4, 4, 3), np.uint8)
    image[:2] = [200, 100, 0]
    path = tmp_path / "flat.png"
    Image.fromarray(image).save(path)
    assert main(["compress", str(path), "-k", "16"]) == 0
    out, err = capsys.readouterr()
    assert "2 colours" in out
    assert "(the image has only 2 distinct colours, fewer than the 16 asked for" in out
    assert err == ""
    assert _palette_png(tmp_path / "flat-16colors.png")[2] == 2


def test_compress_keeps_transparency(tmp_path, capsys):
    image = np.zeros((6, 6, 4), np.uint8)
    image[:3] = [0, 0, 255, 255]
    image[3:, :, 0] = 255  # hidden red behind full transparency
    path = tmp_path / "alpha.png"
    Image.fromarray(image).save(path)
    assert main(["compress", str(path), "-k", "2"]) == 0
    capsys.readouterr()
    with Image.open(tmp_path / "alpha-2colors.png") as picture:
        assert picture.mode == "P"
        assert "transparency" in picture.info
        decoded = np.asarray(picture.convert("RGBA"))
    np.testing.assert_array_equal(decoded[:3], image[:3])
    assert (decoded[3:, :, 3] == 0).all()


@pytest.mark.parametrize(
    "content, match",
    [(b"", r"is empty \(0 bytes\)"), (b"GIF89a broken", r"(corrupt or truncated|not an image)"),
     (b"plain text, not a picture", r"is not an image this tool can read")],
    ids=["empty", "truncated-gif", "text"],
)
def test_compress_corrupt_file(tmp_path, capsys, content, match):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    assert main(["compress", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = _one_error_line(err)
    assert line.startswith(f"kmeans: {path} ")
    assert line.count(str(path)) == 1, line  # the file is named once, not "bad.png: bad.png is ..."
    assert re.search(match, line)
    assert not (tmp_path / "bad-16colors.png").exists()


def test_compress_truncated_jpeg(photo_files, tmp_path, capsys):
    data = photo_files[1].read_bytes()
    path = tmp_path / "half.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert main(["compress", str(path)]) == 2
    assert "corrupt or truncated" in _one_error_line(capsys.readouterr().err)


def test_batch_with_one_bad_file(photo_files, capsys):
    png, jpeg = photo_files
    bad = png.parent / "c.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert main(["compress", str(png), str(bad), str(jpeg), "-k", "8"]) == 1
    out, err = capsys.readouterr()
    assert [line[:5] for line in out.splitlines()] == ["[1/3]", "[3/3]"]
    err_lines = err.strip().splitlines()
    assert err_lines[0].startswith(f"kmeans: [2/3] {bad}")
    assert err_lines[1] == "kmeans: 1 of 3 images failed"
    assert "Traceback" not in err
    assert (png.parent / "a-8colors.png").exists()
    assert (png.parent / "b-8colors.png").exists()
    assert not (png.parent / "c-8colors.png").exists()


def test_batch_where_every_file_fails(tmp_path, capsys):
    for name in ("x.png", "y.jpg"):
        (tmp_path / name).write_bytes(b"nope")
    assert main(["compress", str(tmp_path)]) == 2
    assert "kmeans: 2 of 2 images failed" in capsys.readouterr().err


@pytest.mark.parametrize("k", ["0", "300", "-3"], ids=["k0", "k300", "k-negative"])
def test_compress_k_out_of_range(photo_files, capsys, k):
    assert main(["compress", str(photo_files[0]), "-k", k]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"kmeans: error: -k {k} is out of range: a palette image holds 1 to 256 colours"


@pytest.mark.parametrize(
    "flags, message",
    [(["--max-iter", "0"], "--max-iter must be an integer >= 1, got 0"),
     (["--max-iter", "20000"], "--max-iter=20000 is out of range: use 1 to 10000"),
     (["--n-init", "0"], "--n-init must be an integer >= 1, got 0"),
     (["--seed", str(2**32)], f"--seed={2**32} is out of range: use 0 to 4294967295"),
     (["--seed", "-1"], "--seed=-1 is out of range: use 0 to 4294967295")],
    ids=["max-iter-0", "max-iter-too-many", "n-init-0", "seed-too-large", "seed-negative"],
)
def test_compress_bad_option_fails_once_before_any_file(photo_files, capsys, flags, message):
    # Two files, one error line: the options are checked before the first file is read.
    assert main(["compress", str(photo_files[0]), str(photo_files[1]), *flags]) == 2
    assert _one_error_line(capsys.readouterr().err) == f"kmeans: error: {message}"
    assert not list(photo_files[0].parent.glob("*colors.png"))


def test_compress_k_not_a_number(photo_files, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compress", str(photo_files[0]), "-k", "many"])
    assert exit_info.value.code == 2
    assert "K must be a whole number, got 'many'" in capsys.readouterr().err


def test_compress_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.png"
    assert main(["compress", str(missing)]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"kmeans: error: {missing}: no such file or folder")


def test_compress_empty_folder(tmp_path, capsys):
    assert main(["compress", str(tmp_path)]) == 2
    assert "holds no image files" in _one_error_line(capsys.readouterr().err)


def test_output_name():
    assert output_name("/some/where/photo.jpg", 16) == "photo-16colors.png"
    assert output_name("archive.tar.png", 2) == "archive.tar-2colors.png"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"kmeans {__version__}"


@needs_processes
def test_compress_as_a_process_prints_no_traceback(tmp_path):
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this JPEG stops here")
    result = subprocess.run([sys.executable, "-m", "kmeans", "compress", str(bad)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    line = _one_error_line(result.stderr)
    assert line.startswith(f"kmeans: {bad}")


# -- cluster --------------------------------------------------------------------------------

@pytest.fixture
def points_csv(tmp_path, six_points):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n" + "\n".join(f"{x:g},{y:g}" for x, y in six_points) + "\n")
    return path


def test_cluster_prints_centers_and_inertia(points_csv, capsys):
    assert main(["cluster", str(points_csv), "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "6 points, 2 features, k=2"
    assert out.splitlines()[1] == "inertia 16, 1 iteration"  # (two columns of three: one step)
    centers = sorted(re.findall(r"^  \d: \[(.*)\]  \((\d) points\)$", out, re.MULTILINE))
    assert centers == [("1, 2", "3"), ("10, 2", "3")]


def test_cluster_writes_labels_csv(points_csv, tmp_path, capsys):
    labels_path = tmp_path / "labels.csv"
    assert main(["cluster", str(points_csv), "-k", "2", "--labels", str(labels_path)]) == 0
    assert f"labels written to {labels_path}" in capsys.readouterr().out
    lines = labels_path.read_text().splitlines()
    assert lines[0] == "label"
    labels = [int(v) for v in lines[1:]]
    assert len(labels) == 6
    assert labels[:3] == [labels[0]] * 3 and labels[3:] == [1 - labels[0]] * 3


@pytest.mark.parametrize("init", ["k-means++", "random"], ids=["kmeans++", "random"])
def test_cluster_writes_plot(tmp_path, capsys, init):
    X = np.random.default_rng(0).normal(size=(60, 2))
    data = tmp_path / "points.npy"
    np.save(data, X)
    plot = tmp_path / "fig.png"
    assert main(["cluster", str(data), "-k", "3", "--init", init, "--plot", str(plot)]) == 0
    assert f"figure written to {plot}" in capsys.readouterr().out
    data_bytes = plot.read_bytes()
    assert data_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data_bytes) > 1000


def test_cluster_plot_with_a_bad_extension(points_csv, tmp_path, capsys):
    assert main(["cluster", str(points_csv), "-k", "2", "--plot", str(tmp_path / "f.txt")]) == 2
    assert "use a .png, .svg or .pdf file name" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "f.txt").exists()


def test_cluster_plot_into_a_missing_folder_names_the_figure(points_csv, tmp_path, capsys):
    plot = tmp_path / "no-such-folder" / "fig.svg"
    assert main(["cluster", str(points_csv), "-k", "2", "--plot", str(plot)]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"kmeans: error: {plot} cannot be written (no such file or directory)")


def test_cluster_plot_needs_two_columns(tmp_path, capsys):
    # Before the fix this ended in an IndexError traceback inside plot_clusters.
    path = tmp_path / "one.csv"
    path.write_text("1\n2\n3\n10\n11\n")
    plot = tmp_path / "f.png"
    assert main(["cluster", str(path), "-k", "2", "--plot", str(plot)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert _one_error_line(err) == (
        f"kmeans: error: --plot draws the first 2 columns, but {path} has only 1")
    assert not plot.exists()
    assert main(["cluster", str(path), "-k", "2"]) == 0  # without --plot one column is fine


def test_cluster_ragged_csv(tmp_path, capsys):
    path = tmp_path / "ragged.csv"
    path.write_text("1,2\n3,4\n5\n")
    assert main(["cluster", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert _one_error_line(err) == (
        "kmeans: error: ragged.csv: line 3 has 1 value but line 1 has 2; every row must have "
        "the same number of columns")


@pytest.mark.parametrize(
    "content, args, match",
    [("1,2\n3,4\n", ["-k", "0"], r"error: -k 0 is out of range: \S*p\.csv has 2 points, so use -k 1 to 2$"),
     ("1,2\n3,4\n", ["-k", "5"], r"error: -k 5 is out of range: \S*p\.csv has 2 points, so use -k 1 to 2$"),
     ("1,2\n3,4\n", ["-k", "1", "--n-init", "0"], r"error: --n-init 0 is out of range: use 1 or more$"),
     ("1,2\n3,4\n", ["-k", "1", "--max-iter", "-3"], r"error: --max-iter -3 is out of range: use 1 or more$"),
     ("1,2\n1,2\n1,2\n", ["-k", "2"], r"only 1 distinct point, fewer"),
     ("1e154,2\n3,4\n", ["-k", "1"], r"holds 1e\+154 \(row 0, column 0\); values up to 1e\+100 in size"),
     ("1e-160,2e-160\n3e-160,0\n", ["-k", "1"], r"every value of the data is below 1e-100 in size"),
     ("1,2\n3,x\n", [], r"line 2, column 2: 'x' is not a number"),
     ("", [], r"the file is empty")],
    ids=["k0", "k-too-big", "n-init-0", "max-iter-negative", "few-distinct", "huge", "tiny", "non-numeric",
         "empty"],
)
def test_cluster_user_errors(tmp_path, capsys, content, args, match):
    path = tmp_path / "p.csv"
    path.write_text(content)
    assert main(["cluster", str(path), *args]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("kmeans: error: ")
    assert re.search(match, line)


def test_cluster_missing_file(tmp_path, capsys):
    missing = tmp_path / "missing.csv"
    assert main(["cluster", str(missing)]) == 2
    assert _one_error_line(capsys.readouterr().err) == f"kmeans: error: {missing}: no such file"


# -- many files: processes, order, targets, folders, existing outputs --------------------------


@pytest.fixture
def four_photos(tmp_path, small_photo, encode):
    """Four different small photos in a folder, one of them in a sub-folder."""
    folder = tmp_path / "album"
    (folder / "trip").mkdir(parents=True)
    paths = []
    for index, name in enumerate(["a.png", "b.png", "c.jpg", "trip/d.png"]):
        path = folder / name
        image = np.roll(small_photo, 7 * index, axis=1)
        path.write_bytes(encode(np.ascontiguousarray(image), "JPEG" if name.endswith("jpg") else "PNG"))
        paths.append(path)
    return folder, paths


@needs_processes
def test_two_processes_print_lines_in_input_order_and_write_what_one_does(four_photos, tmp_path, capsys):
    folder, paths = four_photos
    assert main(["compress", *map(str, paths), "-k", "8", "-j", "2", "-o", str(tmp_path / "two")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" -> ")[0] for line in lines] == [f"[{n}/4] {path}" for n, path in enumerate(paths, 1)]
    assert main(["compress", *map(str, paths), "-k", "8", "-j", "1", "-o", str(tmp_path / "one")]) == 0
    for path in paths:
        name = output_name(str(path), 8)
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_recursive_mirrors_the_folders_under_the_output(four_photos, tmp_path, capsys):
    folder, _ = four_photos
    out = tmp_path / "out"
    assert main(["compress", str(folder), "-r", "-k", "4", "-j", "1", "-o", str(out), "-q"]) == 0
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*.png"))
    assert written == ["a-4colors.png", "b-4colors.png", "c-4colors.png", "trip/d-4colors.png"]
    # Without -r, the sub-folder is not read.
    assert main(["compress", str(folder), "-k", "4", "-j", "1", "-o", str(tmp_path / "flat"), "-q"]) == 0
    assert sorted(path.name for path in (tmp_path / "flat").iterdir()) == [
        "a-4colors.png", "b-4colors.png", "c-4colors.png"]


def test_existing_outputs_are_skipped_unless_overwrite_and_outputs_are_not_read_again(four_photos, capsys):
    folder, paths = four_photos
    assert main(["compress", str(folder), "-k", "4", "-j", "1", "-q"]) == 0
    output = folder / "a-4colors.png"
    output.write_bytes(b"old")  # the user's own file under that name
    assert main(["compress", str(folder), "-k", "4", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert f"[1/3] {paths[0]} -> {output}: skipped, the output exists (--overwrite replaces it)" in out
    assert out.count("skipped") == 3  # b and c too; the outputs themselves were not taken as inputs
    assert output.read_bytes() == b"old"
    assert main(["compress", str(folder), "-k", "4", "-j", "1", "--overwrite", "-q"]) == 0
    assert output.read_bytes().startswith(b"\x89PNG")


def test_a_size_target_writes_a_file_within_it(photo_files, tmp_path, capsys):
    target = tmp_path / "small.png"
    assert main(["compress", str(photo_files[0]), "--max-kb", "3", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert target.stat().st_size <= 3 * 1024
    assert re.search(r"; target met with \d+ colours: [\d,]+ bytes, within 3,072 \(\d+%\) \(\d trials?\)$", out.strip())
    assert output_name("x.jpg", max_kb=3) == "x-3kb.png"


def test_a_missed_target_keeps_the_best_file_and_exits_0_unless_strict(photo_files, tmp_path, capsys):
    source = str(photo_files[0])
    plain = tmp_path / "plain.png"
    assert main(["compress", source, "--max-kb", "0.01", "-o", str(plain)]) == 0
    out = capsys.readouterr().out
    assert "target missed with 1 colour: " in out and "over the 10 asked for: this is the smallest output found" in out
    assert plain.exists()
    strict = tmp_path / "strict.png"
    assert main(["compress", source, "--max-kb", "0.01", "--strict", "-o", str(strict)]) == 3
    assert "not written (--strict; --keep writes it anyway)" in capsys.readouterr().out
    assert not strict.exists()
    assert main(["compress", source, "--max-kb", "0.01", "--strict", "--keep", "-o", str(strict)]) == 3
    assert strict.read_bytes() == plain.read_bytes()
    assert main(["compress", source, "--max-kb", "100", "--strict", "-o", str(strict)]) == 0


def test_a_quality_target_is_reached(photo_files, tmp_path, capsys):
    target = tmp_path / "q.png"
    assert main(["compress", str(photo_files[0]), "--min-quality", "40", "-o", str(target)]) == 0
    score = float(re.search(r"SSIMULACRA2 ([\d.]+)", capsys.readouterr().out).group(1))
    assert score >= 40


@pytest.mark.parametrize(("flags", "message"), [
    (["--max-kb", "0"], "--max-kb 0: the size target must be a number of KB above 0, e.g. --max-kb 200"),
    (["--max-kb", "-5"], "--max-kb -5: the size target must be a number of KB above 0, e.g. --max-kb 200"),
    (["--max-kb", "nan"], "--max-kb nan: the size target must be a number of KB above 0, e.g. --max-kb 200"),
    (["--min-quality", "120"], "--min-quality 120: the quality target is a SSIMULACRA2 score up to 100 (identical), "
                               "e.g. --min-quality 70"),
    (["--keep"], "--keep goes with --strict: without --strict a result that misses its target is kept anyway"),
    (["-j", "0"], "-j 0: the number of parallel jobs must be 1 or more"),
])
def test_bad_targets_and_jobs_fail_before_any_file(photo_files, capsys, flags, message):
    assert main(["compress", str(photo_files[0]), *flags]) == 2
    assert _one_error_line(capsys.readouterr().err) == f"kmeans: error: {message}"
    assert not list(photo_files[0].parent.glob("*-*.png"))


def test_an_empty_folder_says_how_to_read_sub_folders(tmp_path, capsys):
    (tmp_path / "inner").mkdir()
    assert main(["compress", str(tmp_path)]) == 2
    assert _one_error_line(capsys.readouterr().err).endswith("(--recursive also reads its sub-folders)")
    assert main(["compress", str(tmp_path), "-r"]) == 2
    assert f"folder {tmp_path} or its sub-folders holds no image files" in capsys.readouterr().err


def test_a_terminal_gets_a_progress_bar_and_the_lines_stay_clean(four_photos, capsys, monkeypatch):
    _, paths = four_photos
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["compress", *map(str, paths[:3]), "-k", "2", "-j", "1"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"\r\[#{8}\.{16}\] 1/3  [\d.]+ files/s  ETA \d+:\d\d ", captured.err)
    assert re.search(r"\r\[#{16}\.{8}\] 2/3  ", captured.err)
    assert captured.err.endswith("\r\033[K")  # the bar is cleared at the end
    assert [line[:5] for line in captured.out.splitlines()] == ["[1/3]", "[2/3]", "[3/3]"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["compress", *map(str, paths[:3]), "-k", "2", "-j", "1", "-q", "--overwrite"]) == 0
    assert capsys.readouterr().err == ""  # -q: no bar


def test_an_interrupted_write_leaves_no_partial_file(photo_files, tmp_path, capsys, monkeypatch):
    import kmeans.files

    real_open = open

    class Interrupting:
        def __init__(self, path, mode):
            self.handle = real_open(path, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:10])
            raise KeyboardInterrupt

    monkeypatch.setattr(kmeans.files, "open", Interrupting, raising=False)
    target = tmp_path / "out" / "x.png"
    assert main(["compress", str(photo_files[0]), "-o", str(target)]) == 130
    assert "kmeans: interrupted: 0 of 1 written, no partial file left" in capsys.readouterr().err
    assert list((tmp_path / "out").iterdir()) == []
