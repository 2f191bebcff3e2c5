"""The playgrounds' callbacks run without a browser: set a control's value, read what is shown."""

import re

import helpers as H
from helpers.tokens import GROUP_LABEL_STYLE


def widgets_of(box):
    return {type(w).__name__: w for w in box.children}


def test_stored_playgrounds_tell_readers_without_a_kernel_what_to_do(four_tokenizers):
    bundle = H.tokenizer_playground(four_tokenizers)._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Tokenizer playground: run this cell in JupyterLab")
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_tokenizer_playground_redraws_on_typing(four_tokenizers):
    box = H.tokenizer_playground(four_tokenizers, text="hello")
    before = box.children[2].value
    widgets_of(box)["Textarea"].value = "你好，世界 <b>"
    after = box.children[2].value
    assert after != before and "151,669" in after and "&lt;" in after and "<b>" not in after


def test_tokenizer_playground_survives_empty_text(four_tokenizers):
    box = H.tokenizer_playground(four_tokenizers)
    box.children[1].value = ""
    assert "empty or only whitespace" in box.children[2].value


def test_tokenizer_playground_keeps_huge_text_short(four_tokenizers):
    box = H.tokenizer_playground(four_tokenizers)
    box.children[1].value = "word " * 20_000
    assert "showing the first 400 of" in box.children[2].value


def test_similarity_playground_redraws_and_handles_too_few_sentences(embedder):
    box = H.similarity_playground(embedder, ["A cat sleeps.", "A kitten naps."])
    text, message, image = box.children[1], box.children[2], box.children[3]
    first = image.value
    assert first[:4] == b"\x89PNG" and message.value == ""
    text.value = "A cat sleeps.\nStocks fell today.\n猫在睡觉。"
    assert image.value != first
    text.value = "only one sentence"
    assert "at least two sentences" in message.value and image.layout.display == "none"


def test_generation_stepper_appends_the_top_token_or_the_chosen_one(smol_model, smol_tokenizer):
    stepper = H.generation_stepper(smol_model, smol_tokenizer, "The capital of France is", k=5)
    assert stepper.choices[0].description.startswith("␣Paris")
    stepper.next_button.click()
    assert stepper.text == " Paris"
    stepper.reset()
    second = stepper.candidates[1].piece
    stepper.choices[1].click()  # continue from the runner-up instead
    assert stepper.generated == [second.id]
    stepper.next_button.click()
    assert len(stepper.generated) == 2
    assert stepper.text == smol_tokenizer.decode(stepper.generated, skip_special_tokens=True)


def test_generation_stepper_brackets_a_character_when_its_last_piece_arrives(smol_model, smol_tokenizer):
    stepper = H.generation_stepper(smol_model, smol_tokenizer,
                                   "The Chinese word for bird is 鸟. The Chinese word for bird is", k=5)
    labels = f"<span style='{re.escape(GROUP_LABEL_STYLE)}'>([^<]*)</span>"
    chips = []
    for _ in range(3):  # SmolLM2 writes " 鸟" as three byte tokens: ␣<E9>, <B8>, <9F>
        stepper.choose(0)
        chips.append(re.findall(labels, stepper.text_view.value))
    assert chips == [[], [], ["␣鸟"]]
    assert stepper.generated == [30866, 133, 249] and stepper.text == " 鸟"
    assert "␣&lt;E9&gt;<span" in stepper.text_view.value, "the pieces are still chips with their ids"
    assert "id 30866 · vocabulary entry" in stepper.text_view.value
    assert "bytes 20 E9 · token 1 of the 3 that form &#x27; 鸟&#x27;" in stepper.text_view.value


def test_generation_stepper_stops_at_end_of_sequence(smol_model, smol_tokenizer):
    chat = smol_tokenizer.apply_chat_template([{"role": "user", "content": "Say hi."}], tokenize=False,
                                              add_generation_prompt=True)
    stepper = H.generation_stepper(smol_model, smol_tokenizer, chat)
    for _ in range(60):
        stepper.choose(0)
    assert stepper.finished and stepper.next_button.disabled
    assert "end-of-sequence" in stepper.text_view.value


def test_sampling_playground_redraws_and_is_seeded(smol_model, smol_tokenizer):
    play = H.sampling_playground(smol_model, smol_tokenizer, "I like to eat")
    first = play.view.value
    play.temperature.value = 0.3
    assert play.view.value != first
    a = play.state()[1]
    assert play.state()[1] == a  # same seed, same samples
    play.top_k.value = 1
    assert len(set(play.state()[1])) == 1 and "1 token can be drawn" in play.view.value


def test_sampling_playground_survives_extreme_values(smol_model, smol_tokenizer):
    play = H.sampling_playground(smol_model, smol_tokenizer, "I like to eat")
    play.temperature.value = play.temperature.min
    play.top_p.value = play.top_p.min
    assert "can be drawn" in play.view.value
    assert "can be drawn" in play.view.value
    play.seed.value = 2**40  # beyond the control's range: clamped, never an overflow
    assert f"(seed {2**31 - 1})" in play.view.value
