import helpers as H


def test_groups_add_up_to_the_model_total(smol_model):
    groups = H.parameter_groups(smol_model)
    assert sum(g.total for g in groups) == sum(p.numel() for p in smol_model.parameters()) == 134_515_008
    q = next(g for g in groups if g.name == "model.layers.*.self_attn.q_proj.weight")
    assert q.shape == (576, 576) and q.count == 30


def test_tied_lm_head_is_reported_once(smol_model):
    assert H.tied_weights(smol_model) == [("lm_head.weight", "model.embed_tokens.weight")]
    view = H.describe_model(smol_model)
    assert "134,515,008" in view.html and "tied" in view.html


def test_untied_tiny_model_from_a_config():
    from transformers import LlamaConfig, LlamaForCausalLM

    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                        num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False))
    groups = {g.name: g for g in H.parameter_groups(tiny)}
    assert groups["lm_head.weight"].total == 1600
    assert sum(g.total for g in groups.values()) == sum(p.numel() for p in tiny.parameters())
    assert H.tied_weights(tiny) == []
