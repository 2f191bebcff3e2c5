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
    assert "0.50" in view.html and repr(view).splitlines()[1] == "bf16: 269.0 MB (0.50 x fp32)"


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
