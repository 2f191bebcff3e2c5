import pytest

import helpers as H


def test_workflow_splits_prompt_and_answer(smol_tokenizer):
    prompt = smol_tokenizer("The capital of France is").input_ids
    answer = smol_tokenizer(" Paris.").input_ids
    w = H.workflow(smol_tokenizer, prompt, prompt + answer)
    assert w.prompt == "The capital of France is"
    assert w.answer == " Paris."
    assert [p.text for p in w.new_pieces] == ["␣Paris", "."]


def test_output_that_does_not_continue_the_prompt_is_refused(smol_tokenizer):
    with pytest.raises(ValueError, match="do not start with input_ids"):
        H.workflow(smol_tokenizer, [1, 2, 3], [9, 9, 9, 9])


def test_show_workflow_has_the_five_stages_escaped(smol_tokenizer):
    prompt = smol_tokenizer("<b>bold</b>").input_ids
    view = H.show_workflow(smol_tokenizer, prompt, prompt + smol_tokenizer(" ok").input_ids)
    for stage in ["1. Text in", "2. Tokenizer", "3. The LLM", "4. Token ids out", "5. Tokenizer"]:
        assert stage in view.html
    assert "<b>bold" not in view.html
    assert repr(view) == "text in (7 tokens) -> LLM -> 1 new tokens -> text out: ' ok'"


@pytest.mark.slow
def test_real_model_greedy_answer_is_paris(smol_tokenizer):
    """The converted SmolLM2 completes the book's example the way llama.cpp does on the GGUF."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct"))
    inputs = smol_tokenizer("The capital of France is", return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=1, do_sample=False)
    assert H.workflow(smol_tokenizer, inputs.input_ids, out).answer == " Paris"
