"""training_cost: the arguments measure_training refuses, and the table's text (the real runs are in ch12a)."""

import pytest

import helpers as H
from helpers import training_cost as T


@pytest.mark.parametrize("kwargs,problem", [
    ({"methods": "full"}, "methods is a list drawn from"),
    ({"methods": ["full", "adapter"]}, "methods is a list drawn from"),
    ({"steps": 1}, "steps must be an int from 2 to 50"),
    ({"batch_size": 0}, "batch_size from 1 to 64"),
])
def test_bad_arguments_are_refused_before_any_process_starts(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        H.measure_training("smollm2-135m-instruct", **kwargs)


def test_an_unknown_model_is_the_model_error():
    with pytest.raises(H.ModelNotFoundError):
        H.measure_training("no-such-model")


def test_the_table_shows_counted_bytes_and_escapes_text():
    cost = T.StepCost(method="<b>full</b>", parameters=200, trainable=100, grad_bytes=400, optimizer_bytes=800,
                      loaded_mb=10.0, peak_mb=20.0, loaded_file_mb=4.0, peak_file_mb=0.0, seconds_per_step=1.5,
                      steps=3, device="cpu")
    view = H.training_cost_table([cost])
    assert "100 (50.0%)" in view.text and "1.50 s" in view.text
    assert "10 MB (4 MB)" in view.text and "| 20 MB |" in view.text  # the mapped-file part only where it is known
    assert "<b>full</b>" not in view.html and "&lt;b&gt;" in view.html
