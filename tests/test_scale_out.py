"""The README's recipe for millions of photos, run as written on Dask's local scheduler."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _recipe() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- dask-recipe -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "the README lost its Dask recipe (the block after <!-- dask-recipe -->)"
    return match.group(1)


def test_the_dask_recipe_compresses_a_folder_and_reports_the_bad_file(tmp_path, monkeypatch, small_photo, encode,
                                                                       capsys):
    pytest.importorskip("dask.bag", reason="Dask is not installed (pip install dask)")
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(3):
        (photos / f"p{index}.jpg").write_bytes(encode(small_photo, "JPEG", quality=90 - 10 * index))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(_recipe(), "README.md (dask recipe)", "exec"), namespace)
    assert capsys.readouterr().out == "3 written, 1 failed\n"
    results = {Path(r.source).name: r for r in namespace["results"]}
    assert results["broken.jpg"].status == "failed" and "is not an image this tool can read" in results["broken.jpg"].error
    for index in range(3):
        written = tmp_path / "out" / f"p{index}.png"
        assert results[f"p{index}.jpg"].status == "written"
        assert written.read_bytes().startswith(b"\x89PNG") and written.stat().st_size <= 200 * 1024
