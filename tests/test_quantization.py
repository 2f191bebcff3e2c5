import pytest

import helpers as H


@pytest.fixture(scope="module")
def footprints():
    return {r.variant: r for r in H.memory_footprints(H.model_path("smollm2-135m-instruct"))}


def test_fp32_is_four_bytes_a_parameter_and_bf16_half(footprints):
    # plus a few hundred bytes of buffers (the rotary embedding's inverse frequencies)
    assert footprints["fp32"].total == pytest.approx(4 * 134_515_008, abs=1024)
    assert footprints["bf16"].total == pytest.approx(2 * 134_515_008, abs=1024)
    assert footprints["fp32"].constant_bytes == 0


def test_quantized_variants_shrink_in_order(footprints):
    totals = [footprints[v].total for v in H.VARIANTS]
    assert totals == sorted(totals, reverse=True)
    assert footprints["4-bit NF4"].total / footprints["fp32"].total < 0.35  # tied embedding stays 16-bit


def test_constants_match_the_qlora_arithmetic(footprints):
    assert footprints["4-bit NF4"].constant_bits_per_param == pytest.approx(0.5)  # 32 bits per 64 weights
    dq = footprints["4-bit NF4 + double quant"].constant_bits_per_param
    assert dq == pytest.approx(8 / 64 + 32 / (64 * 256) + 0.0162, abs=0.001)  # + per-tensor lookup tables


def test_table_shows_ratios(footprints):
    view = H.memory_table(H.model_path("smollm2-135m-instruct"), variants=("fp32", "bf16"))
    assert "0.50" in view.html
    assert repr(view).splitlines()[1] == "bf16: 269.0 MB (0.50 x fp32); decoder layers 212.4 MB (0.50 x fp32)"
    assert repr(H.memory_table(list(footprints.values()))).count("\n") == 4  # rows already measured


def test_decoder_layers_in_4_bits_are_under_a_third_of_fp32(footprints):
    fp32, nf4 = footprints["fp32"].layer_bytes, footprints["4-bit NF4 + double quant"].layer_bytes
    assert fp32 == pytest.approx(4 * (134_515_008 - 49_152 * 576 - 576), abs=1024)  # all but embedding + final norm
    assert nf4 / fp32 < 1 / 3  # 0.13 measured


def test_missing_bitsandbytes_gets_a_message_that_says_what_still_works(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_bnb(name, *args, **kwargs):
        if name.split(".")[0] == "bitsandbytes":
            raise ImportError("libbitsandbytes_cpu.so: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_bnb)
    with pytest.raises(H.QuantizationUnavailableError, match="cannot open shared object.*pip install bitsandbytes"
                                                             r".*fp32 / bf16 LoRA\) runs without it"):
        H.require_bitsandbytes()
    with pytest.raises(H.QuantizationUnavailableError):
        H.memory_footprints(H.model_path("smollm2-135m-instruct"), variants=("fp32", "4-bit NF4"))
    assert len(H.memory_footprints(H.model_path("smollm2-135m-instruct"), variants=("fp32",))) == 1


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(ValueError, match="choose from fp32, bf16, 8-bit"):
        H.quantization_config("3-bit")


def test_nf4_roundtrip_of_a_real_matrix(smol_model):
    import torch

    w = smol_model.model.layers[0].self_attn.q_proj.weight
    normalized, levels, dequantized = H.nf4_roundtrip(w)
    assert levels.numel() == 16 and float(levels.min()) == -1.0 and float(levels.max()) == 1.0
    assert float(normalized.abs().max()) == pytest.approx(1.0)
    assert dequantized.shape == w.shape
    error = (w.detach() - dequantized).abs()
    assert float(error.mean()) < 0.2 * float(w.detach().abs().mean())  # about 11 % of a typical weight
    assert not torch.equal(dequantized, w.detach())  # but real: 4 bits lose information
    fig = H.plot_nf4(w)
    assert len(fig.axes[0].lines) == 16


def test_nf4_refuses_what_it_cannot_quantize():
    import torch

    with pytest.raises(TypeError, match="one floating-point weight matrix"):
        H.nf4_roundtrip(torch.zeros(10, dtype=torch.int64).reshape(2, 5))
    with pytest.raises(ValueError, match="multiple of the block size 64"):
        H.nf4_roundtrip(torch.zeros(3, 5))


def test_4bit_layers_compute_in_the_devices_own_precision(monkeypatch):
    """fp32 on a CPU: bf16 is emulated on CPUs without bf16 instructions and a QLoRA step takes
    several times longer (a ch12b QLoRA step took 55 s in bf16 on a 2-core AVX2 machine)."""
    import torch

    monkeypatch.setenv("LLM_LAB_DEVICE", "cpu")
    config = H.quantization_config("4-bit NF4 + double quant")["quantization_config"]
    assert config.bnb_4bit_compute_dtype == torch.float32
    config = H.quantization_config("4-bit NF4", compute_dtype=torch.bfloat16)["quantization_config"]
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
