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


def test_the_slowest_items_are_read_from_pytests_durations_list():
    output = ("============ slowest 8 durations ============\n"
              "301.52s call     tests/test_browser.py::"
              "test_notebook_runs_clean_in_jupyterlab[ch12b_fine_tuning.ipynb]\n"
              "12.01s setup    tests/test_models.py::test_x\n"
              "========= 600 passed in 1500.00s =========\n")
    rows = bench.slowest(output, n=1)
    assert rows == [("slowest: test_notebook_runs_clean_in_jupyterlab[ch12b_fine_tuning.ipynb]", "302 s",
                     "call of tests/test_browser.py")]


def test_notebook_times_come_from_the_browser_runs_record(tmp_path):
    assert bench.notebooks_in_browser(tmp_path) == []
    (tmp_path / "tests" / "screenshots").mkdir(parents=True)
    (tmp_path / "tests" / "screenshots" / "browser_timings.json").write_text(
        '{"ch01_generating_text.ipynb run all": 61.2, "tokenizer playground: key to redraw": 0.03}')
    rows = bench.notebooks_in_browser(tmp_path)
    assert [(name, value) for name, value, _ in rows] == [("ch01_generating_text executed in JupyterLab", "61 s")]


def test_a_notebook_pattern_that_matches_nothing_says_so(monkeypatch, capsys):
    monkeypatch.setattr(bench.sys, "argv", ["run.py", "--notebooks", "no-such-chapter*"])
    bench.main()
    assert "no notebook matches 'no-such-chapter*'" in capsys.readouterr().out
