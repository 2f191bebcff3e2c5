import json

import pytest

import helpers as H

PAIR = {"prompt": [{"role": "user", "content": "What is a token?"}],
        "chosen": [{"role": "assistant", "content": "A token (词元) is a piece of text."}],
        "rejected": [{"role": "assistant", "content": "A token is a piece of text."}]}


def _rows(name):
    return [json.loads(line) for line in open(H.data_path(name))]


def test_the_chapter_preference_sets_are_well_formed_and_disjoint():
    train, heldout = _rows("ch12_preferences_train.jsonl"), _rows("ch12_preferences_heldout.jsonl")
    assert H.check_preference_rows(train) == 40 and H.check_preference_rows(heldout) == 8
    assert not {r["prompt"][0]["content"] for r in train} & {r["prompt"][0]["content"] for r in heldout}


@pytest.mark.parametrize("change,match", [
    ({"chosen": None}, "row 1 of pairs.jsonl .*'chosen' is missing"),
    ({"prompt": [{"role": "assistant", "content": "x"}]}, "'prompt' is missing or not a list of messages ending "
                                                          "with a user message"),
    ({"rejected": PAIR["chosen"]}, "chosen and rejected are the same answer"),
])
def test_a_bad_pair_is_named(change, match):
    with pytest.raises(H.DatasetFormatError, match=match):
        H.check_preference_rows([PAIR, {**PAIR, **change}], "pairs.jsonl")


def test_answer_logprob_equals_the_models_own_loss_on_the_answer(smol_model, smol_tokenizer):
    import torch

    prompt_ids = smol_tokenizer.apply_chat_template(PAIR["prompt"], add_generation_prompt=True)
    full = smol_tokenizer.apply_chat_template(PAIR["prompt"] + PAIR["chosen"], return_tensors="pt",
                                              return_dict=True)["input_ids"]
    if not isinstance(prompt_ids, list):
        prompt_ids = prompt_ids["input_ids"]
    labels = full.clone()
    labels[0, :len(prompt_ids)] = -100  # loss on the answer tokens only
    with torch.no_grad():
        loss = smol_model(input_ids=full, labels=labels).loss.item()
    n_answer = full.shape[1] - len(prompt_ids)
    logp = H.answer_logprob(smol_model, smol_tokenizer, PAIR["prompt"], PAIR["chosen"])
    assert logp == pytest.approx(-loss * n_answer, rel=1e-4)


def test_margins_are_chosen_minus_rejected(smol_model, smol_tokenizer):
    swapped = {**PAIR, "chosen": PAIR["rejected"], "rejected": PAIR["chosen"]}
    forward, backward = H.preference_margins(smol_model, smol_tokenizer, [PAIR, swapped])
    assert forward == pytest.approx(-backward, abs=1e-4) and forward != 0


def test_margin_table_shows_the_mean_change_and_escapes():
    rows = [{**PAIR, "prompt": [{"role": "user", "content": "<img src=x onerror=alert(1)>"}]}, PAIR]
    view = H.margin_table(rows, [-2.0, -4.0], [1.0, 0.0])
    assert repr(view) == "mean margin -3.00 -> +0.50 nats over 2 held-out pairs"
    assert "&lt;img src=x" in view.html and "<img" not in view.html and "+3.50" in view.html
    with pytest.raises(ValueError, match="one margin before and after per pair"):
        H.margin_table(rows, [1.0], [1.0, 2.0])
