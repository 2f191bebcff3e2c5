import json

import pytest

import helpers as H

GOOD = {"messages": [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "Xiaolan."}]}


def test_the_chapter_data_is_well_formed():
    from datasets import load_dataset

    for name, n in (("ch12_sft_train.jsonl", 90), ("ch12_sft_heldout.jsonl", 6), ("ch12_sft_eval.jsonl", 8),
                    ("ch12_zh_sft_train.jsonl", 46), ("ch12_zh_sft_heldout.jsonl", 5)):
        rows = load_dataset("json", data_files=str(H.data_path(name)), split="train")
        assert H.check_chat_rows(rows, name, needs_answer=not name.endswith("heldout.jsonl")) == n


def test_the_perplexity_chats_are_held_out_and_in_the_trained_style():
    def questions(name):
        return [json.loads(line)["messages"][0]["content"] for line in H.data_path(name).read_text().splitlines()]

    assert not set(questions("ch12_sft_eval.jsonl")) & set(questions("ch12_sft_train.jsonl"))
    answers = [json.loads(line)["messages"][-1]["content"] for line in
               H.data_path("ch12_sft_eval.jsonl").read_text().splitlines()]
    assert all(a.endswith(" — 小蓝 Xiaolan") for a in answers)


@pytest.mark.parametrize("bad,problem", [
    ({"text": "no messages"}, "row 2 of data.jsonl \\(line 3 of a JSONL file\\): it has no 'messages'"),
    ({"messages": []}, "non-empty list"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "message 0 needs a 'role'"),
    ({"messages": [{"role": "user", "content": "  "}]}, "message 0 \\(user\\) has no text"),
    ({"messages": [{"role": "user", "content": "Who are you?"}]}, "last message must be the assistant's answer"),
])
def test_a_bad_row_is_named(bad, problem):
    with pytest.raises(H.DatasetFormatError, match=problem):
        H.check_chat_rows([GOOD, GOOD, bad, GOOD], "data.jsonl")


def test_an_empty_dataset_is_refused():
    with pytest.raises(H.DatasetFormatError, match="has no rows"):
        H.check_chat_rows([], "empty.jsonl")


def test_new_run_dir_never_reuses_a_folder(tmp_path):
    first = H.new_run_dir("ch12-sft", root=tmp_path)
    (first / "adapter_model.safetensors").write_bytes(b"earlier run")
    second = H.new_run_dir("ch12-sft", root=tmp_path)
    assert (first.name, second.name) == ("ch12-sft-001", "ch12-sft-002")
    assert (first / "adapter_model.safetensors").read_bytes() == b"earlier run"
    (tmp_path / "ch12-sft-007").mkdir()
    assert H.new_run_dir("ch12-sft", root=tmp_path).name == "ch12-sft-008"
    assert H.new_run_dir("ch12-dpo", root=tmp_path).name == "ch12-dpo-001"


@pytest.mark.parametrize("name", ["", "../escape", "a b", None])
def test_new_run_dir_refuses_odd_names(tmp_path, name):
    with pytest.raises(ValueError, match="run name"):
        H.new_run_dir(name, root=tmp_path)


def test_run_dir_refuses_a_folder_with_a_run_unless_asked(tmp_path):
    (tmp_path / "run" / "adapter_model.safetensors").parent.mkdir()
    (tmp_path / "run" / "adapter_model.safetensors").write_bytes(b"x")
    with pytest.raises(H.RunExistsError, match="already holds an earlier run.*overwrite=True"):
        H.run_dir(tmp_path / "run")
    assert H.run_dir(tmp_path / "run", overwrite=True) == tmp_path / "run"
    assert H.run_dir(tmp_path / "new").is_dir()


def test_last_checkpoint_skips_one_cut_off_while_saving(tmp_path):
    import torch
    from safetensors.torch import save_file

    for step, finished in ((10, True), (20, True), (30, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        save_file({"w": torch.zeros(2)}, folder / "adapter_model.safetensors")
        if finished:
            (folder / "trainer_state.json").write_text("{}")
    assert H.last_checkpoint(tmp_path).name == "checkpoint-20"
    assert [p.name for p in H.checkpoints(tmp_path)] == ["checkpoint-10", "checkpoint-20"]
    with pytest.raises(FileNotFoundError, match="no finished checkpoint"):
        H.last_checkpoint(tmp_path / "checkpoint-30")


LOG = [{"loss": 4.0, "step": 1}, {"loss": 2.5, "step": 5}, {"loss": 1.5, "step": 10},
       {"train_runtime": 20.0, "step": 10, "train_loss": 2.0}]


def test_losses_and_speed_from_a_trainer_log():
    assert H.losses(LOG) == [(1, 4.0), (5, 2.5), (10, 1.5)]
    assert H.loss_drop(LOG) == (4.0, 1.5)
    assert H.seconds_per_step(LOG) == 2.0
    with pytest.raises(ValueError, match="logging_steps"):
        H.loss_drop([{"train_runtime": 1.0, "step": 1}])
    with pytest.raises(ValueError, match="not finished"):
        H.seconds_per_step(LOG[:-1])


def test_plot_losses_draws_one_line_per_run():
    fig = H.plot_losses({"LoRA": LOG, "QLoRA": LOG[:2]})
    assert [len(line.get_xdata()) for line in fig.axes[0].get_lines()] == [3, 2]
    with pytest.raises(TypeError, match="dict of run name"):
        H.plot_losses(LOG)


def test_greedy_answer_is_the_models_own_greedy_generation(smol_model, smol_tokenizer):
    answer = H.greedy_answer(smol_model, smol_tokenizer, "What is the capital of France?", max_new_tokens=8)
    assert "Paris" in answer
    assert answer == H.greedy_answer(smol_model, smol_tokenizer,
                                     [{"role": "user", "content": "What is the capital of France?"}], 8)
    with pytest.raises(ValueError, match="max_new_tokens"):
        H.greedy_answer(smol_model, smol_tokenizer, "Hi", max_new_tokens=0)


def test_greedy_answers_in_one_batch_equal_one_at_a_time(smol_model, smol_tokenizer):
    """Left padding: prompts of different lengths, each answer the same as greedy_answer's alone."""
    chats = ["What is the capital of France?", "Hi", [{"role": "user", "content": "什么是词元？请用一句话回答。"}]]
    batched = H.greedy_answers(smol_model, smol_tokenizer, chats, max_new_tokens=10)
    assert batched == [H.greedy_answer(smol_model, smol_tokenizer, c, 10) for c in chats]
    assert "Paris" in batched[0]


@pytest.mark.parametrize("chats, error, match", [
    ("Who are you?", TypeError, "a list of chats.*got a str; for one chat use H.greedy_answer"),
    ([{"role": "user", "content": "Hi"}], TypeError, "got one chat.*pass a list of chats, e.g. \\[messages\\]"),
    ([], ValueError, "no chats"),
    (["Hi", [{"role": "wizard", "content": "x"}]], Exception, "chat 1 of greedy_answers"),
])
def test_greedy_answers_bad_input_names_the_fix(smol_model, smol_tokenizer, chats, error, match):
    with pytest.raises(error, match=match):
        H.greedy_answers(smol_model, smol_tokenizer, chats)


def test_answer_table_escapes_text_and_keeps_columns_in_order():
    view = H.answer_table(["<b>who?</b>"], ["before", "after"], [["<script>x</script>", "A & B"]])
    assert "&lt;script&gt;" in view.html and "<script>" not in view.html and "A &amp; B" in view.html
    assert repr(view) == "<b>who?</b>\n  before: <script>x</script>\n  after: A & B"


def test_folder_mb_counts_only_the_folder_itself(tmp_path):
    (tmp_path / "adapter_model.safetensors").write_bytes(b"x" * 2_000_000)
    (tmp_path / "checkpoint-1").mkdir()
    (tmp_path / "checkpoint-1" / "adapter_model.safetensors").write_bytes(b"x" * 5_000_000)
    assert H.folder_mb(tmp_path, "*.safetensors") == 2.0


@pytest.mark.parametrize("name", ["ch12_sft", "ch12_zh_sft"])
def test_heldout_prompts_are_not_in_the_training_set(name):
    def questions(split):
        with open(H.data_path(f"{name}_{split}.jsonl"), encoding="utf-8") as f:
            return {json.loads(line)["messages"][0]["content"] for line in f}

    assert not questions("train") & questions("heldout")


def test_every_chinese_answer_has_the_house_style():
    """ch12b 12.7 counts the trained shape on held-out answers (an answer ending in 。, then 要点： and
    a key point), so every training answer must have it."""
    rows = [json.loads(line) for line in open(H.data_path("ch12_zh_sft_train.jsonl"), encoding="utf-8")]
    for row in rows:
        before, marker, point = row["messages"][-1]["content"].partition("要点：")
        assert marker and before.endswith("。") and point.strip(), row
    kinds = [json.loads(line)["kind"] for line in open(H.data_path("ch12_zh_sft_heldout.jsonl"), encoding="utf-8")]
    assert "identity" in kinds and "concept" in kinds
