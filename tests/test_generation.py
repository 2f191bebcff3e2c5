import pytest
import torch

import helpers as H

PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time", "鸟"]


@pytest.mark.slow
@pytest.mark.parametrize("prompt,use_cache", [(p, True) for p in PROMPTS] + [(p, False) for p in PROMPTS[:2]])
def test_step_by_step_equals_generate_greedy(smol_model, smol_tokenizer, prompt, use_cache):
    steps = H.generate_step_by_step(smol_model, smol_tokenizer, prompt, max_new_tokens=16, use_cache=use_cache)
    ids = smol_tokenizer(prompt, return_tensors="pt").input_ids
    ref = smol_model.generate(ids, max_new_tokens=16, do_sample=False)[0, ids.shape[1]:].tolist()
    assert steps.new_ids == ref


def test_step_by_step_stops_at_end_of_sequence(smol_model, smol_tokenizer):
    chat = smol_tokenizer.apply_chat_template([{"role": "user", "content": "Say hi."}], tokenize=False,
                                              add_generation_prompt=True)
    steps = H.generate_step_by_step(smol_model, smol_tokenizer, chat, max_new_tokens=60)
    assert steps.new_ids[-1] == smol_model.generation_config.eos_token_id
    assert len(steps.steps) < 60
    assert "steps" in repr(steps) and "runners-up" in steps._repr_html_()


def test_probabilities_form_a_distribution(smol_model, smol_tokenizer):
    logits = smol_model(smol_tokenizer("The capital of France is", return_tensors="pt").input_ids).logits
    cands = H.top_candidates(logits, smol_tokenizer, k=10)
    assert cands[0].piece.text == "␣Paris"
    assert [c.prob for c in cands] == sorted((c.prob for c in cands), reverse=True)
    full = H.sampling_distribution(logits)
    # fp32 softmax over 49k tokens: each term rounds; on AVX2-only CPUs the total drifts by ~2e-5
    assert float(full.double().sum()) == pytest.approx(1.0, abs=1e-4)
    assert float(full[cands[0].piece.id]) == pytest.approx(cands[0].prob, abs=1e-6)


@pytest.fixture(scope="module")
def logits():
    torch.manual_seed(0)
    return torch.randn(1000) * 3


def test_temperature_one_leaves_the_softmax_unchanged(logits):
    assert torch.allclose(H.sampling_distribution(logits, temperature=1.0), torch.softmax(logits, -1))


def test_lower_temperature_sharpens(logits):
    top = int(logits.argmax())
    assert H.sampling_distribution(logits, temperature=0.5)[top] > H.sampling_distribution(logits)[top]
    assert H.sampling_distribution(logits, temperature=2.0)[top] < H.sampling_distribution(logits)[top]


@pytest.mark.parametrize("k", [1, 5, 50])
def test_top_k_keeps_k_tokens(logits, k):
    probs = H.sampling_distribution(logits, top_k=k)
    assert int((probs > 0).sum()) == k
    assert set(probs.nonzero().flatten().tolist()) == set(logits.topk(k).indices.tolist())
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-5)


def test_top_p_of_one_keeps_every_token():
    logits = torch.randn(49152) * 8  # a peaked distribution whose float32 cumsum reaches 1.0 early
    assert int((H.sampling_distribution(logits, top_p=1.0) > 0).sum()) == 49152


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 1.0])
def test_top_p_keeps_the_smallest_set_reaching_p(logits, p):
    base = torch.softmax(logits, -1)
    probs = H.sampling_distribution(logits, top_p=p)
    kept = int((probs > 0).sum())
    sorted_base = base.sort(descending=True).values
    assert float(sorted_base[:kept].sum()) >= p - 1e-6  # reaches p
    assert kept == 1 or float(sorted_base[: kept - 1].sum()) < p  # one fewer would not


@pytest.mark.parametrize("kwargs,match", [
    ({"temperature": 0}, "temperature must be > 0.*do_sample=False"),
    ({"temperature": -1.0}, "temperature must be > 0"),
    ({"top_k": 10**6}, "k must be an int between 1 and the vocabulary size 1,000"),
    ({"top_p": 0.0}, r"top_p must be in \(0, 1\]"),
    ({"top_p": 1.5}, r"top_p must be in \(0, 1\]"),
])
def test_bad_sampling_settings_are_explained(logits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        H.sampling_distribution(logits, **kwargs)


def test_k_larger_than_the_vocabulary(smol_tokenizer, logits):
    with pytest.raises(ValueError, match="vocabulary size"):
        H.show_next_token_probs(torch.zeros(49152), smol_tokenizer, k=50_000)


def test_logits_of_a_batch_or_wrong_type_are_refused(smol_tokenizer):
    with pytest.raises(ValueError, match=r"pass one row"):
        H.show_next_token_probs(torch.zeros(2, 3, 49152), smol_tokenizer)
    with pytest.raises(TypeError, match="torch tensor"):
        H.show_next_token_probs([0.1, 0.9], smol_tokenizer)


def test_empty_prompt_is_refused(smol_model, smol_tokenizer):
    with pytest.raises(ValueError, match="prompt is empty"):
        H.generate_step_by_step(smol_model, smol_tokenizer, "   ")


def test_prompt_longer_than_the_context_is_refused(smol_model, smol_tokenizer):
    with pytest.raises(ValueError, match="context is 8,192"):
        H.generate_step_by_step(smol_model, smol_tokenizer, "word " * 9000, max_new_tokens=1)


def test_next_token_view_escapes_and_highlights(smol_tokenizer):
    logits = torch.full((49152,), -10.0)
    logits[smol_tokenizer.convert_tokens_to_ids("<")] = 5.0
    view = H.show_next_token_probs(logits, smol_tokenizer, k=3)
    assert "&lt;" in view.html and "font-weight:700" in view.html


def test_temperature_plot(smol_tokenizer, logits):
    big = torch.zeros(49152)
    big[:1000] = logits
    fig = H.plot_temperatures(big, smol_tokenizer, temperatures=(0.5, 1.0), k=5)
    assert len(fig.axes[0].patches) == 10
