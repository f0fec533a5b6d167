"""ninerepro.tts: Tacotron 2 has the official size, and the decoder's shortcuts change no output."""

from __future__ import annotations

import torch

from ninerepro.tts import Tacotron2, Tacotron2Config
from ninerepro.tts.decoder import Decoder, DecoderConfig
from ninerepro.tts.encoder import TextEncoder


def tiny() -> Tacotron2Config:
    return Tacotron2Config(symbols_embedding_dim=16, encoder_embedding_dim=16, decoder_rnn_dim=24, prenet_dim=8,
                           attention_rnn_dim=24, attention_dim=8, attention_location_n_filters=4,
                           postnet_embedding_dim=8, n_mel_channels=10, prenet_dropout=False)


def test_parameter_count_equals_nvidia_tacotron2():
    # counted on NVIDIA/tacotron2 185cd24's model built from its hparams.py (148 symbols)
    assert sum(p.numel() for p in Tacotron2().parameters()) == 28_193_153


def test_official_key_names_are_kept():
    keys = set(Tacotron2().state_dict())
    assert {"embedding.weight", "encoder.convolutions.0.0.conv.weight", "encoder.convolutions.2.1.running_var",
            "encoder.lstm.weight_ih_l0_reverse", "decoder.prenet.layers.1.linear_layer.weight",
            "decoder.attention_layer.location_layer.location_conv.conv.weight",
            "decoder.attention_layer.v.linear_layer.weight", "decoder.gate_layer.linear_layer.bias",
            "postnet.convolutions.4.1.weight"} <= keys


def test_per_utterance_encoder_in_eval_equals_one_utterance_at_a_time():
    torch.manual_seed(0)
    enc = TextEncoder(16, conv_mode="per_utterance").eval()
    x, lengths = torch.randn(3, 16, 11), torch.tensor([11, 6, 3])  # padding holds non-zero values
    batched = enc(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        alone = enc(x[b : b + 1, :, :n], lengths[b : b + 1])
        torch.testing.assert_close(batched[b, :n], alone[0], atol=1e-6, rtol=0)
        assert batched[b, n:].abs().max() == 0 if n < 11 else True


def test_batched_encoder_leaks_padding_as_the_official_tacotron2_does():
    torch.manual_seed(0)
    enc = TextEncoder(16, conv_mode="batched").eval()
    x, lengths = torch.randn(2, 16, 11), torch.tensor([11, 4])
    alone = enc(x[1:, :, :4], lengths[1:])
    assert not torch.allclose(enc(x, lengths)[1, :4], alone[0], atol=1e-4)


def test_sparse_gate_checks_stop_at_the_same_frame_as_checking_every_step():
    torch.manual_seed(0)
    dec = Decoder(DecoderConfig(n_mel=10, memory_dim=16, prenet_dim=8, attention_rnn_dim=24, decoder_rnn_dim=24,
                                attention_dim=8, location_filters=4), prenet_always_dropout=False).eval()
    memory = torch.randn(1, 7, 16)
    probe = torch.sigmoid(dec.inference(memory, gate_threshold=1.0, max_steps=40).gate[0])
    threshold = float(probe[:5].max()) + 1e-6  # the first 5 steps stay below it
    every = dec.inference(memory, gate_threshold=threshold, max_steps=40, check_every=1)
    sparse = dec.inference(memory, gate_threshold=threshold, max_steps=40, check_every=8)
    assert 5 < every.lengths.item() < 40
    assert every.lengths.item() == sparse.lengths.item()
    torch.testing.assert_close(every.mel, sparse.mel)


def test_decoding_leaves_no_state_on_the_module():
    model = Tacotron2(tiny()).eval()
    before = set(vars(model.decoder))
    model.inference(torch.randint(1, 148, (1, 5)), max_decoder_steps=5)
    assert set(vars(model.decoder)) == before


def test_teacher_forced_batch_masks_padding_like_parse_output():
    model = Tacotron2(tiny()).eval()
    text, mel = torch.randint(1, 148, (2, 6)), torch.randn(2, 10, 9)
    mel_out, mel_post, gate, align = model(text, torch.tensor([6, 4]), mel, torch.tensor([9, 5]))
    assert mel_out.shape == (2, 10, 9) and gate.shape == (2, 9) and align.shape == (2, 9, 6)
    assert mel_post[1, :, 5:].abs().max() == 0 and (gate[1, 5:] == 1e3).all()
    assert align[1, :, 4:].abs().max() == 0  # padded tokens get no attention


def test_guided_attention_penalises_off_diagonal_attention_only():
    from ninerepro.tts.loss import guided_attention_loss

    T, N = 20, 10
    diagonal = torch.zeros(1, T, N)
    diagonal[0, torch.arange(T), torch.arange(T) * N // T] = 1.0
    stuck = torch.zeros(1, T, N)
    stuck[0, :, -1] = 1.0  # every frame on the last token: the failure mode it exists for
    lengths_in, lengths_out = torch.tensor([N]), torch.tensor([T])
    on = guided_attention_loss(diagonal, lengths_in, lengths_out).item()
    off = guided_attention_loss(stuck, lengths_in, lengths_out).item()
    assert on < 0.02 and off > 0.5
