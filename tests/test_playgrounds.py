"""The playgrounds' callbacks run without a browser: set a control's value, read what is shown."""

import helpers as H


def widgets_of(box):
    return {type(w).__name__: w for w in box.children}


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
