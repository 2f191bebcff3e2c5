import os
import subprocess
import sys

import helpers as H


def test_import_helpers_imports_nothing_heavy():
    code = ("import sys, helpers; heavy = [m for m in ('torch', 'transformers', 'matplotlib', "
            "'numpy', 'huggingface_hub') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_setup_sets_offline_defaults_but_keeps_user_values(monkeypatch):
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    monkeypatch.setenv("TRANSFORMERS_VERBOSITY", "info")
    summary = H.setup()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    assert os.environ["TRANSFORMERS_VERBOSITY"] == "info"
    assert summary.startswith("device: cpu, float32\nPython 3.") and "transformers 5." in summary


def test_setup_shows_lines_not_a_quoted_string_and_escapes_them():
    from IPython.lib.pretty import pretty

    summary = H.setup()
    assert pretty(summary) == str(summary) and "\\n" not in pretty(summary) and "'" not in pretty(summary)
    odd = type(summary)("device: <cpu>\nPython 3")
    assert odd._repr_html_().count("<div>") == 2 and "&lt;cpu&gt;" in odd._repr_html_()
