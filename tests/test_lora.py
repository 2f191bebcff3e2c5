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
