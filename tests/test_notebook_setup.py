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
