"""Bad input to the token, generation, sampling, embedding, playground and answer helpers (issue 14).

Same shape as test_bad_inputs.py: one row per mistake a learner makes, each with the exception it
must get and a regex for the words of the fix. Where the right answer is a result rather than an
error (a +inf logit, numpy numbers, invisible characters, a size cap), a small test below checks it.
The probe row of tests/../reliability-probe.md each case comes from is in its comment.
"""

import time

import numpy as np
import pytest
import torch
from bad_input import assert_clear_error

import helpers as H
from helpers.playgrounds import tokenizer_html
from helpers.tokens import visible

SURROGATE = "ab\ud800"  # a lone surrogate: half of an emoji
LONE = "invalid character '.{6}' at position 2: a lone surrogate.*encode\\('utf-8', 'replace'\\)"
SMOL_WIDTH = 49152


def nan_logits():
    x = torch.randn(SMOL_WIDTH)
    x[5] = float("nan")
    return x


PAIR = {"prompt": [{"role": "user", "content": "What is 2 + 2?"}],
        "chosen": [{"role": "assistant", "content": "4."}],
        "rejected": [{"role": "assistant", "content": "5."}]}

CASES = {
    # --- show_tokens, token_pieces, token_id (rows 1, 13-15, 20, 24, 26)
    "show_tokens of a text with a lone surrogate": (lambda f: H.show_tokens(f["smol_tok"], SURROGATE), ValueError,
                                                    LONE),
    "bools as token ids": (lambda f: H.show_tokens(f["smol_tok"], [True, False]), TypeError,
                           "token ids must be integers.*bool True"),
    "a negative token id": (lambda f: H.show_tokens(f["smol_tok"], [-1]), ValueError,
                            "token id -1 is not in this tokenizer's vocabulary.*different tokenizer"),
    "a token id of 2**40": (lambda f: H.show_tokens(f["smol_tok"], [2**40]), ValueError,
                            "token id 1099511627776 is not in this tokenizer's vocabulary"),
    "a 3-D tensor of ids": (lambda f: H.token_pieces(f["smol_tok"], torch.zeros(1, 2, 3, dtype=torch.long)),
                            ValueError, "shape \\(seq,\\) or \\(1, seq\\), got shape \\(1, 2, 3\\).*ids\\[0\\]"),
    "a list of lists of lists of ids": (lambda f: H.token_pieces(f["smol_tok"], [[[1, 2]]]), TypeError,
                                        "token ids must be integers.*position 0 holds a list"),
    "float ids name the position": (lambda f: H.token_pieces(f["smol_tok"], [504, 2.0]), TypeError,
                                    "token ids must be integers.*position 1 holds float 2.0"),
    "workflow ids out of range": (lambda f: H.show_workflow(f["smol_tok"], [1, 2], [1, 2, -3]), ValueError,
                                  "token id -3 is not in this tokenizer's vocabulary"),
    "workflow without a tokenizer": (lambda f: H.workflow(None, [1], [1, 2]), TypeError,
                                     "expected a tokenizer as the first argument, got a NoneType"),
    "token_id of 10**30": (lambda f: H.token_id(f["smol_tok"], 10**30), H.NotOneTokenError,
                           "id 10{30} is not in this vocabulary \\(49,152 tokens\\)"),
    "token_id of a lone surrogate": (lambda f: H.token_id(f["smol_tok"], SURROGATE), ValueError,
                                     "the token has an invalid character.*lone surrogate"),
    "token_id of a float": (lambda f: H.token_id(f["smol_tok"], 5.0), TypeError, "str such as ' Paris' or an int id"),
    # --- compare_tokenizers, tokens_per_char, learned_merges (rows 31, 34, 36-40)
    "compare_tokenizers of a lone surrogate": (lambda f: H.compare_tokenizers(SURROGATE, f["four"]), ValueError, LONE),
    "compare_tokenizers limit=-1": (lambda f: H.compare_tokenizers("hello", f["four"], limit=-1), ValueError,
                                    "limit .*must be an int of 0 or more, e.g. limit=100; got -1"),
    "compare_tokenizers limit as text": (lambda f: H.compare_tokenizers("hello", f["four"], limit="10"), TypeError,
                                         "limit .*must be an int of 0 or more.*got str"),
    "tokens_per_char of a lone surrogate": (lambda f: H.tokens_per_char({"en": SURROGATE}, f["four"]), ValueError,
                                            LONE),
    "learned_merges n=-1": (lambda f: H.learned_merges(f["smol_tok"], -1), ValueError,
                            "n \\(how many merges to list\\) must be an int of 0 or more, e.g. n=20"),
    "learned_merges n=1.5": (lambda f: H.learned_merges(f["smol_tok"], 1.5), TypeError,
                             "n .*must be an int of 0 or more.*got float 1.5"),
    "learned_merges n=True": (lambda f: H.learned_merges(f["smol_tok"], True), TypeError,
                              "must be an int of 0 or more.*got bool True"),
    "learned_merges of a model name": (lambda f: H.learned_merges("smollm2-135m-instruct"), TypeError,
                                       "is a name: load it with AutoTokenizer.from_pretrained"),
    "learned_merges of None": (lambda f: H.learned_merges(None), TypeError, "expected a tokenizer.*NoneType"),
    # --- show_attention_mask (row 43's neighbours)
    "attention mask of a lone surrogate": (lambda f: H.attention_mask_grid(f["smol_tok"], ["hi", SURROGATE]),
                                           ValueError, "text 1 has an invalid character.*lone surrogate"),
    "attention mask without a tokenizer": (lambda f: H.show_attention_mask(None, ["a", "b"]), TypeError,
                                           "expected a tokenizer.*NoneType"),
    # --- logits: NaN, -inf, empty, types (rows 52-54, 60, 62, 76, 80, 82, 84)
    "sampling NaN logits": (lambda f: H.sampling_distribution(nan_logits()), ValueError,
                            "logits contain NaN.*token id 5.*float32"),
    "top candidates of NaN logits": (lambda f: H.top_candidates(nan_logits(), f["smol_tok"], 3), ValueError,
                                     "logits contain NaN"),
    "next-token view of NaN logits": (lambda f: H.show_next_token_probs(nan_logits(), f["smol_tok"]), ValueError,
                                      "logits contain NaN.*dtype=torch.float32"),
    "all logits -inf": (lambda f: H.sampling_distribution(torch.full((10,), float("-inf"))), ValueError,
                        "every logit is -inf.*leave at least one token unmasked"),
    "top candidates of all -inf": (lambda f: H.top_candidates(torch.full((SMOL_WIDTH,), float("-inf")), f["smol_tok"]),
                                   ValueError, "every logit is -inf"),
    "logits with no positions": (lambda f: H.top_candidates(torch.zeros(0, SMOL_WIDTH), f["smol_tok"]), ValueError,
                                 "no positions.*at least one token"),
    "a batch of one with no positions": (lambda f: H.sampling_distribution(torch.zeros(1, 0, 10)), ValueError,
                                         "no positions"),
    "temperature as text": (lambda f: H.sampling_distribution(torch.randn(10), temperature="0.7"), TypeError,
                            "temperature must be a number such as 0.7, got str '0.7'.*float\\(value\\)"),
    "temperature as a tensor": (lambda f: H.sampling_distribution(torch.randn(10), temperature=torch.tensor(0.7)),
                                TypeError, "temperature must be a number.*got Tensor.*float\\(value\\)"),
    "temperature True": (lambda f: H.sampling_distribution(torch.randn(10), temperature=True), TypeError,
                         "temperature must be a number.*bool"),
    "top_p as text": (lambda f: H.sampling_distribution(torch.randn(10), top_p="0.9"), TypeError,
                      "top_p must be a number such as 0.9, got str"),
    "top_p as a tensor": (lambda f: H.sampling_distribution(torch.randn(10), top_p=torch.tensor(0.9)), TypeError,
                          "top_p must be a number.*Tensor"),
    "top_k as text": (lambda f: H.sampling_distribution(torch.randn(10), top_k="5"), TypeError,
                      "k must be an int such as 10, got str"),
    "k as a tensor": (lambda f: H.top_candidates(torch.randn(SMOL_WIDTH), f["smol_tok"], k=torch.tensor(3)), TypeError,
                      "k must be an int such as 10, got Tensor"),
    "SmolLM2 logits labelled by Qwen's tokenizer": (lambda f: H.top_candidates(torch.randn(SMOL_WIDTH), f["qwen_tok"]),
                                                    H.TokenizerMismatchError,
                                                    "score 49,152 tokens but the tokenizer has 151,669.*different "
                                                    "models"),
    "Qwen-wide logits labelled by SmolLM2's tokenizer": (lambda f: H.show_next_token_probs(torch.randn(151936),
                                                                                           f["smol_tok"]),
                                                         H.TokenizerMismatchError, "same H.model_path"),
    "toy logits narrower than the tokenizer": (lambda f: H.top_candidates(torch.randn(100), f["smol_tok"]),
                                               H.TokenizerMismatchError, "score 100 tokens"),
    "next-token view without a tokenizer": (lambda f: H.show_next_token_probs(torch.randn(SMOL_WIDTH), None), TypeError,
                                            "expected a tokenizer as the second argument, got a NoneType"),
    "no temperatures to plot": (lambda f: H.plot_temperatures(torch.randn(SMOL_WIDTH), f["smol_tok"], temperatures=()),
                                ValueError, "temperatures is empty.*temperatures=\\(0.5, 1.0, 2.0\\)"),
    "one temperature, not a list": (lambda f: H.plot_temperatures(torch.randn(SMOL_WIDTH), f["smol_tok"],
                                                                  temperatures=0.7),
                                    TypeError, "temperatures must be a list of numbers"),
    "temperature plot with the wrong tokenizer": (lambda f: H.plot_temperatures(torch.randn(SMOL_WIDTH),
                                                                                f["bert_tok"]),
                                                  H.TokenizerMismatchError, "tokenizer has 30,522"),
    # --- generate_step_by_step with the wrong objects (rows 86, 94-96, 265)
    "prompt with a lone surrogate": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], SURROGATE, 1),
                                     ValueError, "the prompt has an invalid character.*lone surrogate"),
    "generate without a tokenizer": (lambda f: H.generate_step_by_step(f["smol"], None, "Hi", 1), TypeError,
                                     "expected a tokenizer as the second argument, got a NoneType"),
    "generate without a model": (lambda f: H.generate_step_by_step(None, f["smol_tok"], "Hi", 1), TypeError,
                                 "expected a model as the first argument.*NoneType"),
    "generate with a model name": (lambda f: H.generate_step_by_step("smollm2-135m-instruct", f["smol_tok"], "Hi", 1),
                                   TypeError, "got the name 'smollm2-135m-instruct': load it first with "
                                   "AutoModelForCausalLM.from_pretrained\\(H.model_path"),
    "generate with a BERT encoder": (lambda f: H.generate_step_by_step(f["bert"], f["bert_tok"], "Hi", 1), TypeError,
                                     "BertModel does not predict next tokens.*AutoModelForCausalLM"),
    "generate max_new_tokens as text": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], "Hi", "3"),
                                        ValueError, "max_new_tokens must be a positive int"),
    # --- nearest_tokens and word_vector (rows 102-107, 151, 266, 275)
    "nearest tokens of a torch layer, not a model": (lambda f: H.nearest_tokens(torch.nn.Linear(2, 2), f["smol_tok"],
                                                                                " king"),
                                                     TypeError, "expected a model as the first argument.*Linear"),
    "nearest tokens of a model name": (lambda f: H.nearest_tokens("smollm2-135m-instruct", f["smol_tok"], " king"),
                                       TypeError, "load it first"),
    "word_vector layer=True": (lambda f: H.word_vector(f["bert"], f["bert_tok"], "the river bank", "bank", layer=True),
                               TypeError, "layer must be an int such as -1.*bool True"),
    "word_vector layer=1.5": (lambda f: H.word_vector(f["bert"], f["bert_tok"], "the river bank", "bank", layer=1.5),
                              TypeError, "layer must be an int.*float 1.5"),
    "word_vector layer out of range, checked first": (lambda f: H.word_vector(f["bert"], f["bert_tok"], "the bank",
                                                                              "bank", layer=-8),
                                                      ValueError, "layer must be in -7..6 \\(embeddings \\+ 6 "
                                                      "layers\\)"),
    "word_vector of a word only inside another": (lambda f: H.word_vector(f["bert"], f["bert_tok"],
                                                                          "We walked on the embankment.", "bank"),
                                                  ValueError, "only inside the longer word 'embankment'.*whole words"),
    "word_vector with Qwen's tokenizer": (lambda f: H.word_vector(f["smol"], f["qwen_tok"], "I sat by the bank",
                                                                  "bank"),
                                          H.TokenizerMismatchError, "151,669 tokens .*49,152 rows"),
    "word_vector with BERT's tokenizer": (lambda f: H.word_vector(f["smol"], f["bert_tok"], "I sat by the bank",
                                                                  "bank"),
                                          H.TokenizerMismatchError, "30,522 tokens .*different models"),
    "word_vector with Qwen's tokenizer in Chinese": (lambda f: H.word_vector(f["smol"], f["qwen_tok"], "我们在银行",
                                                                             "银行"),
                                                     H.TokenizerMismatchError, "different models"),
    "word_vector of a lone surrogate": (lambda f: H.word_vector(f["bert"], f["bert_tok"], SURROGATE, "ab"), ValueError,
                                        "the sentence has an invalid character.*lone surrogate"),
    "word_vector without a model": (lambda f: H.word_vector(None, f["bert_tok"], "the bank", "bank"), TypeError,
                                    "expected a model as the first argument"),
    "word_vector of a sentence over BERT's 512 positions": (lambda f: H.word_vector(f["bert"], f["bert_tok"],
                                                                                    "bank " * 600, "bank"),
                                                            ValueError, "602 tokens but this model reads at most 512: "
                                                            "shorten it"),
    # --- greedy_answer, answer_table, answer_logprob, margins (rows 137-140, 144, 146, 147, 150)
    "greedy_answer of a number": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"], 123), TypeError,
                                  "messages must be a question \\(str\\) or a list of chat messages"),
    "greedy_answer message without content": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"], [{"role": "user"}]),
                                              H.DatasetFormatError, "message 0 \\(user\\) has no text in 'content'"),
    "greedy_answer with role wizard": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"],
                                                                 [{"role": "wizard", "content": "Hi"}]),
                                       H.DatasetFormatError, "message 0 needs a 'role' of system, user, assistant"),
    "greedy_answer of a lone surrogate": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"], SURROGATE), ValueError,
                                          "the user message has an invalid character.*lone surrogate"),
    "greedy_answer with a model name": (lambda f: H.greedy_answer("smollm2-135m-instruct", f["smol_tok"], "Hi"),
                                        TypeError, "load it first with AutoModelForCausalLM"),
    "greedy_answer without a tokenizer": (lambda f: H.greedy_answer(f["smol"], None, "Hi"), TypeError,
                                          "expected a tokenizer as the second argument"),
    "compare_answers of a number": (lambda f: H.compare_answers(5, {"base": f["smol"]}, f["smol_tok"]), TypeError,
                                    "prompts must be a question \\(str\\) or a list of questions"),
    "answer_table with fewer rows than prompts": (lambda f: H.answer_table(["a", "b", "c"], ["before"], [["x"], ["y"]]),
                                                  ValueError, "one row of answers per prompt: got 3 prompts but 2 "
                                                  "rows"),
    "answer_table with a row too short": (lambda f: H.answer_table(["a"], ["before", "after"], [["x"]]), ValueError,
                                          "row 0 of table has 1 answer\\(s\\) for 2 column\\(s\\) \\(before, after\\)"),
    "answer_table with answers not in rows": (lambda f: H.answer_table(["a", "b"], ["before"], ["x", "y"]), ValueError,
                                              "row 0 of table is a str, not a list of answers.*\\[\\[a\\] for a in "
                                              "answers\\]"),
    "answer_table of a number": (lambda f: H.answer_table(["a"], ["before"], 5), TypeError,
                                 "table must be a list with one row of answers per prompt"),
    "answer_logprob of an empty answer": (lambda f: H.answer_logprob(f["smol"], f["smol_tok"], PAIR["prompt"], []),
                                          ValueError, "the answer is empty.*'role': 'assistant'"),
    "answer_logprob of an empty answer text": (lambda f: H.answer_logprob(f["smol"], f["smol_tok"], "Hi", "  "),
                                               ValueError, "the answer is empty"),
    "answer_logprob of a number": (lambda f: H.answer_logprob(f["smol"], f["smol_tok"], 42, PAIR["chosen"]), TypeError,
                                   "prompt must be a list of chat messages.*got int"),
    "answer_logprob ending on a user turn": (lambda f: H.answer_logprob(f["smol"], f["smol_tok"], PAIR["prompt"],
                                                                        [{"role": "user", "content": "4"}]),
                                             H.DatasetFormatError, "last message must be the assistant's answer"),
    "answer_logprob with BERT's tokenizer": (lambda f: H.answer_logprob(f["smol"], f["bert_tok"], "Hi", "Hello"),
                                             H.TokenizerMismatchError, "different models"),
    "margin_table of a string": (lambda f: H.margin_table("What is 2 + 2?", [1.0], [2.0]), TypeError,
                                 "margin_table needs a list of preference pairs"),
    "margin_table of rows without a prompt": (lambda f: H.margin_table([{"text": "hi"}], [1.0], [2.0]), TypeError,
                                              "row 0 given to margin_table is not a preference pair"),
    "margin_table with a margin that is text": (lambda f: H.margin_table([PAIR], "1.0", [2.0]), TypeError,
                                                "before must be a list of margins"),
    "preference_margins of a string": (lambda f: H.preference_margins(f["smol"], f["smol_tok"], "pairs.jsonl"),
                                       TypeError, "preference_margins needs a list of preference pairs"),
    # --- playgrounds (rows 158, 159)
    "generation stepper with a huge k": (lambda f: H.generation_stepper(f["smol"], f["smol_tok"], "Hi", k=10**6),
                                         ValueError, "k must be an int between 1 and 50 \\(the stepper shows one "
                                         "button per candidate\\), got 1000000"),
    "generation stepper k as text": (lambda f: H.generation_stepper(f["smol"], f["smol_tok"], "Hi", k="8"), TypeError,
                                     "k must be an int between 1 and 50"),
    "generation stepper without a model": (lambda f: H.generation_stepper(None, f["smol_tok"], "Hi"), TypeError,
                                           "expected a model as the first argument"),
    "stepper choose(7) with k=3": (lambda f: f["stepper"].choose(7), ValueError,
                                   "rank must be an int from 0 to 2 \\(0 = the most likely candidate; .*k=3\\), got 7"),
    "stepper choose(-4) with k=3": (lambda f: f["stepper"].choose(-4), ValueError, "rank must be an int from 0 to 2"),
    "stepper choose of a text": (lambda f: f["stepper"].choose("1"), TypeError, "rank must be an int from 0 to 2"),
    "sampling playground of a model name": (lambda f: H.sampling_playground("smollm2-135m-instruct", f["smol_tok"],
                                                                            "Hi"),
                                            TypeError, "load it first"),
    # ================================================ second probe (/tmp/probe2/report.md), ids in the names
    # --- LoRA: a misspelt target is an error, not a smaller count (BAD 2; P3)
    "B13: a LoRA target with a trailing space": (lambda f: H.lora_targets(f["smol"], ["q_proj", "q_proj "]),
                                                 ValueError, "no linear layer named \\['q_proj '\\] \\(did you mean "
                                                 "'q_proj'\\?\\); its linear layers are: down_proj"),
    "C01: a LoRA count with one target misspelt": (lambda f: H.lora_parameter_count(f["smol"], 8, ["q_proj", "v_prj"]),
                                                   ValueError, "no linear layer named \\['v_prj'\\] \\(did you mean "
                                                   "'v_proj'\\?\\)"),
    "C02: a LoRA table with one target misspelt": (lambda f: H.lora_parameter_table(f["smol"],
                                                                                    target_modules=["q_proj", "vproj"]),
                                                   ValueError, "no linear layer named \\['vproj'\\].*did you mean "
                                                   "'v_proj'"),
    "C02: check_lora_config says the same": (lambda f: H.check_lora_config(f["smol"], lora_config(["q_proj", "vproj"])),
                                             H.LoraConfigError, "no linear layer named \\['vproj'\\]"),
    "B05: a LoRA count without a model": (lambda f: H.lora_parameter_count(None, 8, ["q_proj"]), TypeError,
                                          "expected a model as the first argument.*NoneType"),
    "B05: a LoRA count of a model name": (lambda f: H.lora_parameter_count("smollm2-135m-instruct", 8, ["q_proj"]),
                                          TypeError, "load it first with AutoModelForCausalLM"),
    "B06: LoRA targets as one str": (lambda f: H.lora_parameter_table(f["smol"], target_modules="q_proj"), TypeError,
                                     "target_modules must be a list of module names.*got the str 'q_proj': write "
                                     "\\['q_proj'\\]"),
    "B06: LoRA targets of numbers": (lambda f: H.lora_parameter_count(f["smol"], 8, [1, 2]), TypeError,
                                     "target_modules must hold module names \\(str\\)"),
    "B06: no LoRA targets": (lambda f: H.lora_parameter_count(f["smol"], 8, []), ValueError,
                             "non-empty list of module names"),
    "B07: LoRA ranks as one int": (lambda f: H.lora_parameter_table(f["smol"], ranks=8), TypeError,
                                   "ranks must be a list of ints such as \\[1, 2, 4, 8\\], got int 8: write \\[8\\]"),
    "B07: no LoRA ranks": (lambda f: H.lora_parameter_table(f["smol"], ranks=[]), ValueError,
                           "ranks is empty: give at least one rank"),
    "B10: check_lora_config without a model": (lambda f: H.check_lora_config(None, lora_config(["q_proj"])),
                                               TypeError, "expected a model as the first argument.*NoneType"),
    "B11: check_lora_config of a dict": (lambda f: H.check_lora_config(f["smol"], {"r": 8, "target_modules":
                                                                                   ["q_proj"]}),
                                         TypeError, "config must be a peft.LoraConfig, got a dict: write "
                                         "LoraConfig\\(\\*\\*config\\)"),
    "B11: check_lora_config of None": (lambda f: H.check_lora_config(f["smol"], None), TypeError,
                                       "config must be a peft.LoraConfig.*got NoneType"),
    # --- generation: a cap on new tokens, and the context (BAD 3, 4; P4 B19)
    "B15: a million new tokens": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], "Once upon a time",
                                                                    max_new_tokens=10**6),
                                  ValueError, "max_new_tokens must be a positive int, at most 4096.*got 1000000"),
    "B15: 4097 new tokens": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], "Hi", 4097), ValueError,
                             "at most 4096"),
    "B18: greedy_answer over the context": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"], "word " * 9000, 1),
                                            ValueError, "the prompt has 9,031 tokens but this model's context is "
                                            "8,192: shorten it"),
    "B19: answer_logprob over the context": (lambda f: H.answer_logprob(f["smol"], f["smol_tok"], "word " * 9000, "ok"),
                                             ValueError, "the prompt \\+ answer has 9,034 tokens but this model's "
                                             "context is 8,192: shorten it"),
    "B19: compare_answers over the context": (lambda f: H.compare_answers(["word " * 9000], {"base": f["smol"]},
                                                                          f["smol_tok"], max_new_tokens=1),
                                              ValueError, "context is 8,192: shorten it"),
    # --- answers: a list of str, a dict of prompts (P3 B21, B23)
    "B21: greedy_answer of a list of str": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"], ["Hi", "there"]),
                                            TypeError, "messages is a list of str.*pass one question as a str.*"
                                            "H.compare_answers"),
    "B21: greedy_answer of one message dict": (lambda f: H.greedy_answer(f["smol"], f["smol_tok"],
                                                                         {"role": "user", "content": "Hi"}),
                                               TypeError, "a list of chat messages.*got dict"),
    "B23: compare_answers of a dict of prompts": (lambda f: H.compare_answers({"q": "Hi"}, {"base": f["smol"]},
                                                                              f["smol_tok"]),
                                                  TypeError, "prompts must be a question \\(str\\) or a list of "
                                                  "questions, got dict: pass list\\(prompts.values\\(\\)\\)"),
    # --- preference rows, margins (P3 A01-A03, A32, A33, B01, B02; P2 A05)
    "A01: check_preference_rows(None)": (lambda f: H.check_preference_rows(None), TypeError,
                                         "pass the preference rows as a list of dicts or a datasets.Dataset, got "
                                         "NoneType"),
    "A02: check_preference_rows of a file name": (lambda f: H.check_preference_rows("pairs.jsonl"), TypeError,
                                                  "got str; for a file, read it first"),
    "A03: check_preference_rows of one row": (lambda f: H.check_preference_rows(PAIR), TypeError,
                                              "got dict \\(one row: put it in a list, \\[row\\]\\)"),
    "A05: a lone surrogate in a chosen answer": (lambda f: H.check_preference_rows([{**PAIR, "chosen": [
                                                     {"role": "assistant", "content": "\ud800"}]}]),
                                                 H.DatasetFormatError, "row 0 .*'chosen' message 0 has an invalid "
                                                 "character '.{6}' at position 0.*remove it"),
    "A32: a margin given as text": (lambda f: H.margin_table([PAIR], ["1.0"], [2.0]), TypeError,
                                    "before\\[0\\] is str '1.0', not a number: pass the margins "
                                    "H.preference_margins"),
    "A33: a margin of None": (lambda f: H.margin_table([PAIR], [1.0], [None]), TypeError,
                              "after\\[0\\] is NoneType None, not a number"),
    "B01: preference_margins without a model": (lambda f: H.preference_margins(None, f["smol_tok"], [PAIR]), TypeError,
                                                "expected a model as the first argument.*NoneType"),
    "B02: preference_margins of a model name": (lambda f: H.preference_margins("smollm2-135m-instruct", f["smol_tok"],
                                                                               [PAIR]),
                                                TypeError, "load it first with AutoModelForCausalLM"),
    "B01: preference_margins without a tokenizer": (lambda f: H.preference_margins(f["smol"], None, [PAIR]), TypeError,
                                                    "expected a tokenizer as the second argument"),
    # --- token ids given as text or as tokenizer(text) (P3 B34, B38, B45, B47)
    "B34: token_labels of a text": (lambda f: H.token_labels(f["smol_tok"], "The capital"), TypeError,
                                    "expected a list of token ids, got a text \\(str\\) 'The capital': turn it into "
                                    "ids first, ids = tokenizer\\(text\\).input_ids"),
    "B38: show_workflow of texts": (lambda f: H.show_workflow(f["smol_tok"], "Hi", "Hi there"), TypeError,
                                    "got a text \\(str\\) 'Hi': turn it into ids first"),
    "B45: show_tokens of tokenizer(text)": (lambda f: H.show_tokens(f["smol_tok"], f["smol_tok"]("The capital")),
                                            TypeError, "got a BatchEncoding \\(what tokenizer\\(text\\) returns\\), "
                                            "not token ids: pass its input_ids"),
    "B45: token_labels of a dict with input_ids": (lambda f: H.token_labels(f["smol_tok"], {"input_ids": [504]}),
                                                   TypeError, "got a dict .*pass its input_ids"),
    "B47: tokens per character of no texts": (lambda f: H.plot_tokens_per_char({}, {"s": f["smol_tok"]}), ValueError,
                                              "texts is an empty dict: give at least one text"),
    # --- the similarity playground (P5 C03-C06)
    "C03: similarity playground without a model": (lambda f: H.similarity_playground(None, ["a", "b"]), TypeError,
                                                   "expected a sentence embedder.*NoneType: pass a "
                                                   "SentenceTransformer"),
    "C04: similarity playground of a causal LM": (lambda f: H.similarity_playground(f["smol"], ["a", "b"]), TypeError,
                                                  "got a LlamaForCausalLM: pass a SentenceTransformer"),
    "C04: similarity playground of a tokenizer": (lambda f: H.similarity_playground(f["bert_tok"], ["a", "b"]),
                                                  TypeError, "got a tokenizer .*pass a SentenceTransformer"),
    "C04: similarity playground of a model name": (lambda f: H.similarity_playground("all-minilm-l6-v2", ["a", "b"]),
                                                   TypeError, "got the name 'all-minilm-l6-v2': load it first"),
    "C05: similarity playground without sentences": (lambda f: H.similarity_playground(FakeEmbedder(), None),
                                                     TypeError, "sentences must be a list of str.*got NoneType"),
    "C05: similarity playground of one text": (lambda f: H.similarity_playground(FakeEmbedder(), "a\nb"), TypeError,
                                               "got str: split it into sentences first, e.g. text.splitlines\\(\\)"),
    "C06: similarity playground of numbers": (lambda f: H.similarity_playground(FakeEmbedder(), [1, 2]), TypeError,
                                              "item 0 is int 1: pass str\\(x\\)"),
}


class FakeEmbedder:
    """Has .encode like a SentenceTransformer; the checks refuse the sentences before it is called."""

    def encode(self, sentences):
        raise AssertionError("encode should not be reached")


def lora_config(targets):
    from peft import LoraConfig

    return LoraConfig(r=8, target_modules=targets, task_type="CAUSAL_LM")


@pytest.fixture(scope="module")
def f(smol_model, smol_tokenizer, bert_model, bert_tokenizer, qwen_tokenizer, four_tokenizers):
    return {"smol": smol_model, "smol_tok": smol_tokenizer, "bert": bert_model, "bert_tok": bert_tokenizer,
            "qwen_tok": qwen_tokenizer, "four": four_tokenizers,
            "stepper": H.generation_stepper(smol_model, smol_tokenizer, "The capital of France is", k=3)}


def test_there_are_many_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_error(case, f):
    assert_clear_error(CASES[case], f)


# ---------------------------------------------------------------- where the right answer is a result


def test_a_plus_inf_logit_has_probability_one(smol_tokenizer):
    x = torch.randn(SMOL_WIDTH)
    x[7] = float("inf")
    probs = H.sampling_distribution(x)
    assert float(probs[7]) == 1.0 and float(probs.sum()) == 1.0 and not probs.isnan().any()
    assert float(H.sampling_distribution(x, temperature=float("inf"))[7]) == 1.0
    assert float(H.sampling_distribution(x, top_k=5, top_p=0.5)[7]) == 1.0
    top = H.top_candidates(x, smol_tokenizer, 3)
    assert top[0].piece.id == 7 and top[0].prob == 1.0 and top[1].prob == 0.0
    x[9] = float("inf")  # two +inf logits share the probability
    assert H.sampling_distribution(x)[[7, 9]].tolist() == [0.5, 0.5]
    y = torch.zeros(SMOL_WIDTH)
    y[3] = float("inf")
    assert H.show_next_token_probs(y, smol_tokenizer, k=2).text.endswith("100.0%, <|endoftext|> 0.0%")


def test_some_minus_inf_logits_are_masked_tokens(smol_tokenizer):
    x = torch.zeros(SMOL_WIDTH)
    x[100:] = float("-inf")
    probs = H.sampling_distribution(x)
    assert int((probs > 0).sum()) == 100 and float(probs.sum()) == pytest.approx(1.0)


def test_numpy_numbers_work_like_python_numbers(smol_tokenizer):
    torch.manual_seed(0)
    x = torch.randn(1000) * 3
    assert torch.equal(H.sampling_distribution(x, top_k=np.int64(5)), H.sampling_distribution(x, top_k=5))
    assert torch.equal(H.sampling_distribution(x, top_p=np.float32(0.9)), H.sampling_distribution(x, top_p=0.9))
    assert torch.equal(H.sampling_distribution(x, temperature=np.float64(0.7)),
                       H.sampling_distribution(x, temperature=0.7))
    big = torch.randn(SMOL_WIDTH)
    assert H.top_candidates(big, smol_tokenizer, np.int64(3)) == H.top_candidates(big, smol_tokenizer, 3)
    ids = list(np.array([504, 3575]))  # np.int64 items
    assert repr(H.show_tokens(smol_tokenizer, ids)) == "2 tokens: The(504) ␣capital(3575)"
    assert H.token_id(smol_tokenizer, np.int64(504)) == 504
    assert "showing the first 1 of" in H.compare_tokenizers("hello world", {"s": smol_tokenizer},
                                                            limit=np.int64(1)).html


def test_invisible_characters_get_visible_chips(smol_tokenizer, qwen_tokenizer, gpt4_tokenizer):
    assert repr(H.show_tokens(smol_tokenizer, "a\x00b")) == "3 tokens: a(81) <U+0000>(190) b(82)"
    for tok in (qwen_tokenizer, gpt4_tokenizer):  # U+200B is one token there
        pieces = H.token_pieces(tok, tok("a\u200bb").input_ids)
        assert [p.text for p in pieces] == ["a", "<U+200B>", "b"]
    # SmolLM2 splits it into bytes; the character under the bracket is named
    assert "<U+200B>[<E2 80>(321) <8B>(229)]" in repr(H.show_tokens(smol_tokenizer, "\u200b"))
    assert H.token_pieces(qwen_tokenizer, qwen_tokenizer("x\u00a0y").input_ids)[1].text == "<U+00A0>"
    # what the notebooks show is unchanged: spaces, newlines, tabs, CJK and emoji
    assert repr(H.show_tokens(smol_tokenizer, "Hello 世界")) == (
        "7 tokens: Hello(19556) ␣(216) 世[<E4 B8>(7906) <96>(240)] 界[<E7>(178) <95>(239) <8C>(230)]")
    assert visible(" a\n\tb\r，🎵") == "␣a↵⇥b␍，🎵"


def test_the_attention_mask_view_is_capped(bert_tokenizer):
    tok = bert_tokenizer
    view = H.show_attention_mask(tok, ["word " * 4000, "hi"])
    assert len(view.html) < 100_000 and view.html.count("<td") == 2 * 64
    assert "showing the first 64 of 4,002 positions" in view.html and "attention_mask_grid" in view.text
    left = H.show_attention_mask(tok, ["word " * 4000, "hi"], padding_side="left")
    assert "showing the last 64 of 4,002 positions" in left.html and left.text.splitlines()[2].endswith("1 1 1")
    many = H.show_attention_mask(tok, ["hi"] * 100)
    assert many.html.count("<tr>") == 32 and "the first 32 of 100 rows" in many.text
    small = H.show_attention_mask(tok, ["The capital of France is", "Hi"])
    assert "showing" not in small.html and small.text.count("\n") == 2
    assert len(H.attention_mask_grid(tok, ["word " * 4000, "hi"]).mask[0]) == 4002  # the data is whole


def test_the_nearest_tokens_view_is_capped(smol_model, smol_tokenizer):
    view = H.nearest_tokens(smol_model, smol_tokenizer, " king", k=49151)
    assert len(view.html) < 200_000 and view.html.count("<tr>") == 201  # header + 200 rows
    assert "showing the first 200 of 49,151 neighbours" in view.html and "(+48,951 more)" in view.text
    assert len(H.nearest_token_list(smol_model, smol_tokenizer, " king", k=49151)[1]) == 49151
    assert "showing" not in H.nearest_tokens(smol_model, smol_tokenizer, " king", k=8).html
    assert H.nearest_token_list(smol_model, smol_tokenizer, np.int64(504), k=3)[0].id == 504


def test_word_vector_matches_whole_words(bert_model, bert_tokenizer):
    whole = H.word_vector(bert_model, bert_tokenizer, "The embankment by the bank.", "bank", layer=0)
    enc = bert_tokenizer("The embankment by the bank.", return_offsets_mapping=True)
    start = "The embankment by the bank.".rindex("bank")
    pos = [i for i, (a, b) in enumerate(enc.offset_mapping) if a < start + 4 and b > start and b > a]
    with torch.no_grad():
        direct = bert_model(torch.tensor([enc.input_ids]), output_hidden_states=True).hidden_states[0][0, pos].mean(0)
    assert torch.allclose(whole, direct, atol=1e-6)  # the standalone "bank", not the one inside "embankment"
    assert H.word_vector(bert_model, bert_tokenizer, "我去银行存钱", "行").shape == (384,)  # no spaces in Chinese
    assert H.word_vector(bert_model, bert_tokenizer, "the bank's view", "bank", layer=np.int64(-1)).shape == (384,)


def test_answer_logprob_takes_a_question_and_an_answer_as_text(smol_model, smol_tokenizer):
    as_text = H.answer_logprob(smol_model, smol_tokenizer, "What is 2 + 2?", "4.")
    assert as_text == H.answer_logprob(smol_model, smol_tokenizer, PAIR["prompt"], PAIR["chosen"])


def test_answer_table_of_zipped_rows_is_unchanged():
    view = H.answer_table(["q1", "q2"], ["a", "b"], list(zip(["x1", "x2"], ["y1", "y2"], strict=True)))
    assert repr(view) == "q1\n  a: x1\n  b: y1\nq2\n  a: x2\n  b: y2"


def test_the_tokenizer_playground_names_a_lone_surrogate(four_tokenizers):
    html = tokenizer_html(SURROGATE, four_tokenizers)
    assert "lone surrogate" in html and "position 2" in html and "TextEncodeInput" not in html


def test_the_sampling_playground_explains_nan_logits(smol_model, smol_tokenizer):
    play = H.sampling_playground(smol_model, smol_tokenizer, "I like to eat")
    play.logits[5] = float("nan")
    play.update()
    assert "logits contain NaN" in play.view.value and "probability entry" not in play.view.value


def test_the_generation_stepper_checks_k_before_anything_else():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="between 1 and 50"):
        H.generation_stepper(None, None, "Hi", k=10**6)  # k is refused before the model is even looked at
    assert time.perf_counter() - start < 1.0


def test_the_stepper_accepts_python_style_negative_ranks(smol_model, smol_tokenizer):
    stepper = H.generation_stepper(smol_model, smol_tokenizer, "The capital of France is", k=3)
    last = stepper.candidates[-1].piece.id
    stepper.choose(np.int64(-1))
    assert stepper.generated == [last]


def test_dollar_signs_in_tokens_per_char_labels_are_drawn_as_typed(smol_tokenizer):
    fig = H.plot_tokens_per_char({"I paid $5 for a $10 pizza": "I paid $5 for a $10 pizza",
                                  "cost $\\x$": "cost $\\x$"}, {"$tok$": smol_tokenizer})
    fig.canvas.draw()  # "$\x$" read as maths would fail here
    label = fig.axes[0].get_xticklabels()[0]
    assert label._preprocess_math(label.get_text()) == ("$tok$", False)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == "I paid \\$5 for a \\$10 pizza"


# ---------------------------------------------------------------- second probe: results, not errors


def test_the_stepper_stops_at_the_end_of_the_context(smol_model, smol_tokenizer, monkeypatch):  # B15
    prompt = "The capital of France is"
    n = len(smol_tokenizer(prompt).input_ids)
    free = H.generate_step_by_step(smol_model, smol_tokenizer, prompt, max_new_tokens=3)
    assert free.note == "" and "stopped" not in repr(free) and "stopped" not in free._repr_html_()
    monkeypatch.setattr(smol_model.config, "max_position_embeddings", n + 3)
    full = H.generate_step_by_step(smol_model, smol_tokenizer, prompt, max_new_tokens=50)
    assert full.new_ids == free.new_ids  # the same tokens, then no position is left
    assert full.note == f"stopped at the end of the model's context ({n + 3:,} tokens)"
    assert repr(full).endswith(f"({full.note})") and "stopped at the end of the model" in full._repr_html_()


def test_answer_messages_are_not_called_lines_of_a_file(smol_model, smol_tokenizer):  # B21
    with pytest.raises(H.DatasetFormatError) as caught:
        H.greedy_answer(smol_model, smol_tokenizer, [{"role": "user", "content": "  "}])
    assert "JSONL" not in str(caught.value) and str(caught.value).startswith("greedy_answer's messages: message 0")
    with pytest.raises(H.DatasetFormatError) as caught:
        H.answer_logprob(smol_model, smol_tokenizer, [{"role": "wizard", "content": "Hi"}], "Hello")
    assert "JSONL" not in str(caught.value) and "message 0 needs a 'role'" in str(caught.value)


def test_lora_counts_of_names_that_all_match_are_unchanged(smol_model):  # B13, C01
    assert H.lora_parameter_count(smol_model, 8, ["q_proj", "v_proj"]) == 30 * 8 * (576 + 576 + 576 + 192)
    assert H.lora_parameter_count(smol_model, np.int64(8), ("q_proj",)) == 276_480
    assert H.lora_targets(smol_model, {"q_proj"}) == H.lora_targets(smol_model, ["q_proj"])
