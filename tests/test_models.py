import json
import shutil

import pytest

import helpers as H
from helpers import models as M


def test_default_model_reads_one_setting(monkeypatch):
    monkeypatch.delenv("LLM_LAB_MODEL", raising=False)
    assert H.default_model() == "smollm2-135m-instruct"
    monkeypatch.setenv("LLM_LAB_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
    assert H.default_model() == "Qwen/Qwen2.5-0.5B-Instruct"


@pytest.mark.parametrize("name,expected", [
    ("smollm2-135m-instruct", {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"}),
    ("all-minilm-l6-v2", {"config.json", "model.safetensors", "modules.json", "vocab.txt"}),
])
def test_bundled_name_is_a_standard_folder(name, expected):
    folder = H.model_path(name)
    assert expected <= {p.name for p in folder.iterdir()}


def test_converted_folder_has_no_gguf_quantization_marker():
    config = json.loads((H.model_path("smollm2-135m-instruct") / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["vocab_size"] == 49152 and config["tie_word_embeddings"] is True


def test_unknown_name_lists_bundled_names_and_suggests_one():
    with pytest.raises(H.ModelNotFoundError) as err:
        H.model_path("smollm2")
    msg = str(err.value)
    assert "Did you mean 'smollm2-135m-instruct'" in msg and "all-minilm-l6-v2" in msg


def test_uncached_hub_id_offline_says_how_to_fetch_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(H.ModelNotFoundError) as err:
        H.model_path("Qwen/Qwen1.5-0.5B")
    msg = str(err.value)
    assert "make models" in msg and "helpers.fetch Qwen/Qwen1.5-0.5B" in msg
    assert "smollm2-135m-instruct" in msg


def test_local_folder_is_returned_as_is(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert H.model_path(str(tmp_path)) == tmp_path.resolve()


def test_folder_without_model_files_is_refused(tmp_path):
    with pytest.raises(H.ModelNotFoundError, match="save_pretrained"):
        H.model_path(str(tmp_path))


def test_missing_local_folder_says_so():
    with pytest.raises(H.ModelNotFoundError, match="no folder './models/qwen-0.5b'"):
        H.model_path("./models/qwen-0.5b")


def test_bundled_model_not_fetched_yet_says_make_models(monkeypatch, tmp_path):
    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(tmp_path))
    with pytest.raises(H.ModelNotFoundError, match="make models"):
        H.model_path("smollm2-135m-instruct")


def test_truncated_safetensors_is_refused_before_loading(monkeypatch, tmp_path):
    src = H.model_path("all-minilm-l6-v2")
    dst = tmp_path / "all-minilm-l6-v2"
    shutil.copytree(src, dst)
    with open(dst / "model.safetensors", "r+b") as f:
        f.truncate(1000)
    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(tmp_path))
    with pytest.raises(H.ModelNotFoundError, match="truncated"):
        H.model_path("all-minilm-l6-v2")


@pytest.mark.parametrize("bad", [None, 3, ["smollm2-135m-instruct"]])
def test_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match="model name"):
        M.model_path(bad)


def test_empty_name_lists_bundled_models():
    with pytest.raises(H.ModelNotFoundError, match="empty model name; bundled models: all-minilm"):
        H.model_path("  ")


def test_the_hub_id_of_a_bundled_model_points_to_the_bundled_name(monkeypatch, tmp_path):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(H.ModelNotFoundError, match="this project bundles it: use 'smollm2-135m-instruct'"):
        H.model_path("HuggingFaceTB/SmolLM2-135M-Instruct")


def test_a_font_is_not_a_model():
    with pytest.raises(H.ModelNotFoundError, match="is a bundled font, not a model"):
        H.model_path("noto-sans-cjk-sc")


def test_a_missing_local_folder_is_not_mistaken_for_a_hub_id():
    from helpers.models import is_hub_id

    assert is_hub_id("Qwen/Qwen2.5-0.5B-Instruct")
    assert not is_hub_id("./missing/dir") and not is_hub_id("/abs/path")
