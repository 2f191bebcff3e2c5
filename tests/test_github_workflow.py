"""The GitHub Actions workflow for people who fork this repository, validated offline."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "notebooks.yml"
BIN = Path(sys.executable).parent


def run(*args):
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, cwd=ROOT)


def test_workflow_matches_githubs_schema():
    proc = run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_even_as_an_auditor():
    proc = run("zizmor", "--offline", "--persona=auditor", "--format=plain", str(WORKFLOW))
    assert proc.returncode == 0 and "No findings" in proc.stdout, proc.stdout + proc.stderr


def test_workflow_runs_what_ci_runs():
    text = WORKFLOW.read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci.splitlines()[-1]
    assert re.search(r"^\s+run: \.ci/run$", text, re.M), "the test job must run .ci/run, as our CI does"


def test_actions_are_pinned_by_commit_and_credentials_not_kept():
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses: (\S+)", text)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses
    assert text.count("persist-credentials: false") == text.count("actions/checkout@")
    assert "permissions:\n  contents: read" in text and "timeout-minutes" in text
    assert "cancel-in-progress: true" in text and "download.pytorch.org/whl/cpu" in text
