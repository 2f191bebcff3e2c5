import pytest

import helpers as H

ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]


def test_rank_8_on_attention_matches_the_known_count(smol_model):
    assert H.lora_parameter_count(smol_model, 8, ATTENTION) == 921_600  # 30 layers x 8 x (1152+768+768+1152)


@pytest.mark.parametrize("r,targets", [(1, ["q_proj"]), (8, ATTENTION), (16, ["gate_proj", "up_proj", "down_proj"])])
def test_table_equals_what_peft_reports(smol_model, r, targets):
    import copy

    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(copy.deepcopy(smol_model), LoraConfig(r=r, target_modules=targets))
    trainable, _ = peft_model.get_nb_trainable_parameters()
    assert H.lora_parameter_count(smol_model, r, targets) == trainable


def test_table_lists_every_rank(smol_model):
    view = H.lora_parameter_table(smol_model, ranks=[1, 64], target_modules=ATTENTION)
    assert "115,200" in view.html and "7,372,800" in view.html
    assert repr(view).splitlines()[0] == "r=1: 115,200 (0.09%)"


def test_unknown_target_lists_the_linear_layers(smol_model):
    with pytest.raises(ValueError, match="linear layers are: down_proj, gate_proj, k_proj, lm_head, o_proj"):
        H.lora_parameter_count(smol_model, 8, ["query"])


@pytest.mark.parametrize("r", [0, -2, 1.5, True])
def test_bad_rank(smol_model, r):
    with pytest.raises(ValueError, match="positive int"):
        H.lora_parameter_count(smol_model, r, ATTENTION)


def _config(**kw):
    from peft import LoraConfig

    return LoraConfig(**{"r": 8, "target_modules": ATTENTION, "task_type": "CAUSAL_LM", **kw})


def test_check_lora_config_summarises_a_good_config(smol_model):
    assert H.check_lora_config(smol_model, _config()) == (
        "LoRA r=8 on 120 matrices (k_proj, o_proj, q_proj, v_proj): 921,600 trainable parameters, 0.69% of 134,515,008")


@pytest.mark.parametrize("r", [0, -1])
def test_check_lora_config_refuses_rank_zero_or_below(smol_model, r):
    # PEFT itself accepts LoraConfig(r=0) and fails later, deep inside get_peft_model.
    with pytest.raises(H.LoraConfigError, match="positive int"):
        H.check_lora_config(smol_model, _config(r=r))


def test_check_lora_config_names_the_linear_layers_the_model_has(smol_model):
    layers = "down_proj, gate_proj, k_proj, lm_head, o_proj, q_proj, up_proj, v_proj"
    with pytest.raises(H.LoraConfigError, match=rf"no linear layer named \['query'\]; its linear layers are: {layers}"):
        H.check_lora_config(smol_model, _config(target_modules=["q_proj", "query"]))


def test_check_lora_config_all_linear_counts_every_projection(smol_model):
    import copy

    from peft import get_peft_model

    summary = H.check_lora_config(smol_model, _config(target_modules="all-linear"))
    trainable, _ = get_peft_model(copy.deepcopy(smol_model), _config(target_modules="all-linear")) \
        .get_nb_trainable_parameters()
    assert f"{trainable:,} trainable" in summary and "lm_head" not in summary


def test_counts_see_through_a_peft_wrapped_model(smol_model):
    import copy

    from peft import get_peft_model

    wrapped = get_peft_model(copy.deepcopy(smol_model), _config())
    assert H.lora_parameter_count(wrapped, 8, ATTENTION) == 921_600
