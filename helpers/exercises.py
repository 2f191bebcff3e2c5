"""Exercises that check themselves（练习自测）: `H.check_exercise("ch01-2", answer)` says right, or what to look at.

Each exercise at the end of a chapter has a key ("ch01-2": chapter 1, exercise 2) and a check here.
A check computes the right answer itself, from the bundled models and the chapter's data, so it
never trusts the notebook's variables; it returns a Verdict, shown as one line: ✓ and what the
answer shows, or ✗ and a hint that names the section to reread. Each exercise's worked solution is
a collapsed cell under it in the notebook (click the ⋯ to open it), which calls the same check:
executing the notebook in CI proves every solution passes, and tests/test_exercises.py gives each
check at least one wrong answer that it must reject.

    H.check_exercise("ch01-5", 25)   # ✓ or ✗ with a hint
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

JOKE_ZH = "写一个关于鸡的笑话。"
SYSTEM = "You answer in one short sentence."


@dataclass(frozen=True)
class Verdict:
    """The result of a check: right or not, and one line that says why (or where to look)."""

    key: str
    right: bool
    message: str

    def __bool__(self) -> bool:
        return self.right

    def __str__(self) -> str:
        return f"{'✓ right' if self.right else '✗ not yet'} ({self.key}): {self.message}"

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        from .render import esc

        color = "#1a7f37" if self.right else "#b42318"
        return f'<div style="color:{color};font-weight:600">{esc(str(self))}</div>'


CHECKS: dict = {}


def exercise(key: str, section: str):
    """Register `func(answer) -> (right, message)` as the check of exercise `key`; hints name `section`."""

    def register(func):
        CHECKS[key] = (func, section)
        return func

    return register


def check_exercise(key: str, answer) -> Verdict:
    """Check your answer to exercise `key` (e.g. "ch01-2"): ✓, or ✗ with a hint; a wrong answer never raises."""
    if key not in CHECKS:
        known = ", ".join(sorted(CHECKS))
        raise KeyError(f"no exercise {key!r}; the keys are the chapter and the exercise's number: {known}")
    func, section = CHECKS[key]
    try:
        right, message = func(answer)
    except NotANumber as error:
        right, message = False, str(error)
    except Exception as error:  # a wrong kind of answer is a wrong answer, with the reason
        right, message = False, f"{type(error).__name__}: {error}"
    return Verdict(key, right, message if right else f"{message} (see {section})")


# ---------------------------------------------------------------------------- what the checks compare with


@lru_cache(maxsize=4)
def _tokenizer(name: str):
    from transformers import AutoTokenizer

    from .models import model_path

    return AutoTokenizer.from_pretrained(model_path(name))


@lru_cache(maxsize=2)
def _model(name: str):
    import torch
    from transformers import AutoModelForCausalLM

    from .models import model_path

    return AutoModelForCausalLM.from_pretrained(model_path(name), dtype=torch.float32, device_map="cpu").eval()


def _joke_messages() -> list[dict]:
    return [{"role": "user", "content": "Create a funny joke about chickens."}]


# ---------------------------------------------------------------------------- chapter 1


@exercise("ch01-1", "1.7")
def _ch01_1(answer):
    from .models import chinese_model, default_model

    want = tuple(len(_tokenizer(m)(JOKE_ZH).input_ids) for m in (default_model(), chinese_model()))
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        return False, "answer with a pair of counts: (main model's tokens, Qwen's tokens)"
    if tuple(answer) == want[::-1]:
        return False, "the two counts are swapped: the main model's first"
    if tuple(answer) != want:
        return False, "count `len(tokenizer(text).input_ids)` for each tokenizer, on the text alone (no chat template)"
    return True, f"{want[0]} tokens for the main model and {want[1]} for Qwen, for {len(JOKE_ZH)} characters"


@exercise("ch01-2", "1.5")
def _ch01_2(answer):
    from .generation import check_messages
    from .models import default_model

    messages = check_messages(answer, "your messages")
    if not isinstance(messages, list) or [m["role"] for m in messages] != ["system", "user"]:
        return False, "write two messages: a system message first, then the user's request"
    if messages[0]["content"].strip() != SYSTEM:
        return False, f"the system message's content should be exactly {SYSTEM!r}"
    tokenizer = _tokenizer(default_model())
    default = tokenizer.apply_chat_template([messages[1]], tokenize=False, add_generation_prompt=True)
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    default_system = default.split(messages[1]["content"])[0]
    if SYSTEM not in prompt:
        return False, "the system message is not in the rendered prompt"
    if default_system.strip() and default_system in prompt:
        return False, "the default system prompt is still there"
    return True, "your system message replaced the template's default one"


@exercise("ch01-3", "1.5")
def _ch01_3(answer):
    from .models import default_model

    tokenizer = _tokenizer(default_model())
    with_prompt = tokenizer.apply_chat_template(_joke_messages(), tokenize=False, add_generation_prompt=True)
    without = tokenizer.apply_chat_template(_joke_messages(), tokenize=False, add_generation_prompt=False)
    want = with_prompt[len(without):]
    if not isinstance(answer, str):
        return False, "answer with the text (a str) that add_generation_prompt=True adds at the end"
    if answer.strip() == want.strip() and answer != want:
        return False, "nearly: the text ends with a newline too (print it with repr)"
    if answer != want:
        return False, "render the prompt both ways with tokenize=False and compare their ends"
    return True, f"{want!r} opens the assistant's turn: it tells the model that an answer comes next"


@exercise("ch01-4", "1.4; chapter 3, 3.5, explains sampling")
def _ch01_4(answer):
    if not callable(answer):
        return False, "answer with your function sample(seed), not with its result"
    first, again, other = answer(0), answer(0), answer(1)
    if not all(isinstance(t, str) for t in (first, again, other)):
        return False, "sample(seed) should return the generated text (a str)"
    if first != again:
        return False, "sample(0) gave two different texts: set torch.manual_seed(seed) inside the function, first"
    if first == other:
        return False, "seeds 0 and 1 gave the same text: is do_sample=True set?"
    return True, "the same seed gives the same text, another seed another text"


@lru_cache(maxsize=2)
def _joke_ids(name: str) -> tuple[int, tuple[int, ...]]:
    """(prompt length, all ids) of 1.6's greedy joke: the prompt and at most 60 new tokens."""
    import torch

    tokenizer = _tokenizer(name)
    prompt = tokenizer.apply_chat_template(_joke_messages(), tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = _model(name).generate(**inputs, max_new_tokens=60, do_sample=False)
    return inputs.input_ids.shape[1], tuple(out[0].tolist())


@exercise("ch01-5", "1.6")
def _ch01_5(answer):
    from .models import default_model

    prompt_length, ids = _joke_ids(default_model())
    want = len(ids) - prompt_length
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "answer with a whole number of tokens"
    if answer == len(ids):
        return False, "that counts the prompt's tokens too: subtract inputs.input_ids.shape[1]"
    if answer != want:
        hint = "60 is the most it may write; " if answer == 60 else ""
        return False, f"{hint}count the ids after the prompt: output_ids.shape[1] - inputs.input_ids.shape[1]"
    last = _tokenizer(default_model()).decode(ids[-1:])
    why = "the model ended its turn itself" if want < 60 else "the limit stopped it"
    return True, f"{want} new tokens, the last one {last!r}: {why}"


# ---------------------------------------------------------------------------- chapter 12a


def _weight(name: str, tensor: str):
    """One tensor of a bundled model, read from its safetensors files as float32 (no model is built)."""
    from safetensors import safe_open

    from .models import model_path

    for path in sorted(model_path(name).glob("*.safetensors")):
        with safe_open(str(path), "pt") as f:
            if tensor in f.keys():
                return f.get_tensor(tensor).float()
    raise KeyError(f"{name} has no tensor {tensor!r}")


def _nf4_error(weight, quant_type: str = "nf4") -> float:
    """Mean |weight − its 4-bit round trip| in blocks of 64, as bitsandbytes computes it."""
    import bitsandbytes.functional as bnb

    packed, state = bnb.quantize_4bit(weight, blocksize=64, quant_type=quant_type)
    return (weight - bnb.dequantize_4bit(packed, state)).abs().mean().item()


class NotANumber(TypeError):
    """The answer should have been a number."""


def _number(answer, what: str) -> float:
    if isinstance(answer, bool) or not (isinstance(answer, (int, float)) or hasattr(answer, "item")):
        raise NotANumber(f"answer with a number: {what}")
    return float(answer)


def _near(value: float, want: float) -> bool:
    """Within 1 %: a bf16 model on a GPU rounds its weights a little differently from the fp32 files."""
    return abs(value - want) <= 1e-2 * abs(want)


Q0 = "model.layers.0.self_attn.q_proj.weight"


@exercise("ch12a-1", "12.1")
def _ch12a_1(answer):
    import torch

    from .models import default_model

    targets = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    layers = _model(default_model()).model.layers

    def rank8(names):  # r·(d_in + d_out) over the real linear layers with these names, r = 8
        return sum(8 * (m.in_features + m.out_features) for name, m in layers.named_modules()
                   if isinstance(m, torch.nn.Linear) and name.split(".")[-1] in names)

    want, attention = rank8(targets), rank8(targets[:4])
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "answer with a whole number of parameters"
    if answer == attention:
        return False, "that is the attention projections alone: add the three MLP matrices"
    if answer * len(layers) == want:
        return False, "that is one block: every block gets adapters"
    if answer > want:
        return False, "too many: k_proj and v_proj are smaller than q_proj (num_key_value_heads × head size outputs)"
    if answer != want:
        return False, "sum r·(d_in + d_out) over the seven matrices of a block, times the number of blocks"
    return True, f"{want:,} trainable parameters, {want / attention:.1f}x the attention-only adapter"


@exercise("ch12a-2", "12.1")
def _ch12a_2(answer):
    import torch

    from .models import default_model

    block = _model(default_model()).model.layers[0]
    want = {name.split(".")[-1] for name, m in block.named_modules() if isinstance(m, torch.nn.Linear)}
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return False, "answer with a set of names, e.g. {'q_proj', ...}"
    answer = set(answer)
    if answer - want:
        return False, f"{sorted(answer - want)[0]!r} is not a linear layer of a decoder block"
    if answer != want:
        return False, f"{len(want) - len(answer)} of the block's linear layers are missing"
    return True, f"{', '.join(sorted(want))}: PEFT matches target_modules against these names"


@exercise("ch12a-3", "12.2, What NF4 does to one real matrix")
def _ch12a_3(answer):
    from .models import default_model

    value = _number(answer, "the mean |error| of layer 20's down_proj")
    want = _nf4_error(_weight(default_model(), "model.layers.20.mlp.down_proj.weight"))
    layer0 = _nf4_error(_weight(default_model(), Q0))
    if _near(value, layer0):
        return False, "that is layer 0's q_proj: take model.model.layers[20].mlp.down_proj.weight"
    if _near(value, _nf4_error(_weight(default_model(), "model.layers.20.mlp.down_proj.weight"), "fp4")):
        return False, "that is FP4's error, bitsandbytes' default: pass quant_type=\"nf4\""
    if not _near(value, want):
        return False, "round-trip the matrix with quantize_4bit / dequantize_4bit (blocks of 64), average |W − W'|"
    return True, f"{want:.2e}, {'larger' if want > layer0 else 'smaller'} than layer 0 q_proj's {layer0:.2e}"


@exercise("ch12a-4", "12.2, What NF4 does to one real matrix")
def _ch12a_4(answer):
    from .models import default_model

    value = _number(answer, "the mean |error| of layer 0's q_proj with quant_type='fp4'")
    weight = _weight(default_model(), Q0)
    want, nf4 = _nf4_error(weight, "fp4"), _nf4_error(weight)
    if _near(value, nf4):
        return False, "that is NF4's error: pass quant_type='fp4'"
    if not _near(value, want):
        return False, "quantize_4bit(W, blocksize=64, quant_type='fp4'), dequantize, then average |W − W'|"
    better = "NF4" if nf4 < want else "FP4"
    return True, f"FP4 {want:.2e} against NF4 {nf4:.2e}: {better} keeps this matrix better"


@exercise("ch12a-5", "12.2, What NF4 does to one real matrix")
def _ch12a_5(answer):
    from .models import chinese_model, default_model

    value = _number(answer, "Qwen's mean |error| divided by its mean |weight|")
    zh, main = _weight(chinese_model(), Q0), _weight(default_model(), Q0)
    want = _nf4_error(zh) / zh.abs().mean().item()
    main_relative = _nf4_error(main) / main.abs().mean().item()
    if _near(value, _nf4_error(zh)):
        return False, "that is the error itself: divide it by the matrix's mean |weight|"
    if _near(value, _nf4_error(zh, "fp4") / zh.abs().mean().item()):
        return False, "that is FP4, bitsandbytes' default: pass quant_type=\"nf4\""
    if not _near(value, want):
        return False, "the NF4 round trip of ZH_MODEL's layer 0 q_proj: mean |error| / mean |weight|"
    more = "Qwen" if want > main_relative else default_model()
    return True, f"{want:.3f} for Qwen against {main_relative:.3f} for {default_model()}: {more} loses more"
