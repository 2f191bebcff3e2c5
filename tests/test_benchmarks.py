"""benchmarks/run.py's bookkeeping: disk sizes and the generated blocks in BENCHMARKS.md."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_folder_bytes_counts_files_once_and_skips_symlinks(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "w.bin").write_bytes(b"x" * 1000)
    (tmp_path / "b.txt").write_bytes(b"y" * 24)
    (tmp_path / "link.bin").symlink_to(tmp_path / "a" / "w.bin")
    assert bench.folder_bytes(tmp_path) == 1024


def test_disk_rows_name_the_folders_that_exist(tmp_path):
    assert bench.bench_disk(tmp_path) == []
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.safetensors").write_bytes(b"0" * 2_000_000)
    assert bench.bench_disk(tmp_path) == [("disk: `models`", "2 MB", "what set-up created, files only")]


def test_each_mode_refreshes_only_its_own_block(tmp_path):
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# B\n<!-- bench:begin -->\nold run-time\n<!-- bench:end -->\nprose\n")
    bench.write_block(report, "suite", "suite v1")
    bench.write_block(report, "bench", "run-time v2")
    bench.write_block(report, "suite", "suite v2")
    assert report.read_text() == ("# B\n<!-- bench:begin -->\nrun-time v2\n<!-- bench:end -->\nprose\n"
                                  "<!-- suite:begin -->\nsuite v2\n<!-- suite:end -->\n")
