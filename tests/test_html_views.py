"""Every HTML view parses cleanly: only the attributes we write, and full style declarations.

A quote inside a single-quoted style attribute once ended the attribute early; the rest became
junk attributes, the chips lost their layout, and JupyterLab froze rendering the notebook. nbval
compares the HTML as text and cannot see that, so this parses it.
"""

from html.parser import HTMLParser

import pytest
import torch

import helpers as H

ALLOWED_ATTRIBUTES = {"style", "title", "id"}


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.attributes, self.styles, self.tags = set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "style":
                self.styles.append(value)


def check_html(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    c.close()
    assert c.attributes <= ALLOWED_ATTRIBUTES, f"stray attributes {c.attributes - ALLOWED_ATTRIBUTES}"
    for style in c.styles:
        for decl in filter(None, (d.strip() for d in style.split(";"))):
            prop, sep, value = decl.partition(":")
            assert sep and prop.strip().replace("-", "").isalpha() and value.strip(), f"bad CSS {decl!r}"
    assert "script" not in c.tags and "img" not in c.tags
    return c


EVIL = "<script>alert('x')</script> <img src=x onerror=\"alert(1)\"> & 鸟 \t\n"


def test_chips_keep_their_layout(smol_tokenizer):
    c = check_html(H.show_tokens(smol_tokenizer, EVIL).html)
    assert sum("display:inline-block" in s for s in c.styles) >= 10


@pytest.mark.parametrize("view", ["workflow", "compare", "mask", "nearest", "next", "anatomy", "lens", "steps",
                                  "answers", "margins", "memory", "lora", "training"])
def test_every_view_parses(view, smol_tokenizer, smol_model, four_tokenizers):
    if view == "workflow":
        ids = smol_tokenizer(EVIL).input_ids
        html = H.show_workflow(smol_tokenizer, ids, ids + smol_tokenizer(EVIL).input_ids).html
    elif view == "compare":
        html = H.compare_tokenizers(EVIL, four_tokenizers).html
    elif view == "mask":
        html = H.show_attention_mask(smol_tokenizer, [EVIL, "hi"], padding_side="left").html
    elif view == "nearest":
        html = H.nearest_tokens(smol_model, smol_tokenizer, "<", k=5).html
    elif view == "next":
        html = H.show_next_token_probs(torch.randn(49152), smol_tokenizer, k=5).html
    elif view == "anatomy":
        html = H.describe_model(smol_model).html
    elif view == "answers":
        html = H.answer_table([EVIL], [EVIL, "after"], [[EVIL, EVIL]]).html
    elif view == "margins":
        pair = {"prompt": [{"role": "user", "content": EVIL}]}
        html = H.margin_table([pair], [-1.0], [1.0]).html
    elif view == "memory":
        html = H.memory_table([H.quantization.Footprint("fp32", 100, 0, 0, 80),
                               H.quantization.Footprint(EVIL, 30, 5, 10, 20)]).html
    elif view == "training":
        from types import SimpleNamespace

        log = [{"loss": 2.0, "step": 1}, {"loss": 1.0, "step": 5}, {"train_runtime": 5.0, "step": 5}]
        run = SimpleNamespace(state=SimpleNamespace(log_history=log), model=torch.nn.Linear(4, 4))
        html = H.training_table({EVIL: run, "other": run}).html
    elif view == "lora":
        html = H.lora_parameter_table(smol_model, ranks=[1, 2]).html
    elif view == "lens":
        html = H.logit_lens(smol_model, smol_tokenizer, EVIL)._repr_html_()
    else:
        html = H.generate_step_by_step(smol_model, smol_tokenizer, EVIL, max_new_tokens=2)._repr_html_()
    check_html(html)
