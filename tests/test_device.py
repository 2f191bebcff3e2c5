import pytest
import torch

import helpers as H


def test_auto_picks_an_available_device():
    device = H.pick_device("auto")
    assert device in {"cuda", "mps", "cpu"}
    torch.zeros(1, device=device)  # and it really works


def test_cpu_runs_in_float32():
    assert H.pick_dtype("cpu") is torch.float32
    assert H.describe_device("cpu") == "cpu, float32"


def test_cuda_requested_on_a_machine_without_one_names_the_fix(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(H.DeviceError, match="no CUDA GPU.*'auto' or 'cpu'"):
        H.pick_device("cuda")


def test_the_environment_setting_is_honoured(monkeypatch):
    monkeypatch.setenv("LLM_LAB_DEVICE", "cpu")
    assert H.pick_device() == "cpu"
    monkeypatch.setenv("LLM_LAB_DEVICE", "tpu")
    with pytest.raises(H.DeviceError, match="unknown device 'tpu'; choose one of auto, cpu, cuda, mps"):
        H.pick_device()


@pytest.mark.parametrize("bf16,expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_gpus_get_half_precision(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
    assert H.pick_dtype("cuda") is expected


def test_the_dtype_of_a_gpu_that_is_not_there_is_refused(monkeypatch):
    """Probe 189: pick_dtype('cuda') on a CPU machine returned float16."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(H.DeviceError, match="no CUDA GPU"):
        H.pick_dtype("cuda")


def test_pick_dtype_refuses_an_unknown_device():
    with pytest.raises(H.DeviceError, match="unknown device 'gpu'"):
        H.pick_dtype("gpu")
