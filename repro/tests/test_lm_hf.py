"""The HF backend's batching is invisible in its output: shared-prefix prefill, padding and seeding per row."""

from __future__ import annotations

import pytest
import torch

from ninerepro.lm import LMError, Sampling
from ninerepro.lm.hf import HFBackend, _common_prefix_len
from ninerepro.lm.testing import save_tiny, tiny_backend

PREFIX = "Q: a long shared demonstration block that all prompts carry\nA: yes\n\n"
PROMPTS = [PREFIX + "Q: first?\n", PREFIX + "Q: the second one?\n", "unrelated short prompt", PREFIX + "Q: x\n"]


@pytest.fixture(scope="module")
def backend() -> HFBackend:
    return tiny_backend(batch_size=8)


def test_greedy_batch_equals_one_prompt_at_a_time(backend):
    g = Sampling(max_new_tokens=8, greedy=True)
    batched = backend.generate(PROMPTS, g)
    single = [backend.generate([p], g)[0] for p in PROMPTS]
    assert [b.text for b in batched] == [s.text for s in single]
    for b, s in zip(batched, single):
        assert b.logprobs == pytest.approx(s.logprobs, abs=1e-4)


def test_shared_prefix_prefill_gives_the_logits_of_a_plain_forward(backend):
    ids = backend.encode([*PROMPTS[:2], PROMPTS[3]])
    assert _common_prefix_len(ids) >= backend.min_shared_prefix
    logits, *_ = backend.prefill(ids)
    with torch.inference_mode():
        for row, x in enumerate(ids):
            ref = backend.model(input_ids=torch.tensor([x])).logits[0, -1]
            assert torch.allclose(logits[row], ref, atol=1e-4)


def test_a_seeded_sample_does_not_depend_on_its_batch_mates(backend):
    s = Sampling(max_new_tokens=12, top_p=0.9)
    alone = backend.generate([PROMPTS[1]], s, seeds=[21])[0]
    crowd = backend.generate([PROMPTS[0], PROMPTS[1], PROMPTS[1]], s, seeds=[1, 21, 31])
    assert crowd[1].text == alone.text
    assert crowd[2].text != alone.text or crowd[2].logprobs != alone.logprobs  # another seed, another draw


def test_stop_strings_and_stop_when_cut_the_text(backend):
    free = backend.generate([PROMPTS[0]], Sampling(max_new_tokens=10, greedy=True))[0].text
    stop = free[3:5]
    cut = backend.generate([PROMPTS[0]], Sampling(max_new_tokens=10, greedy=True, stop=(stop,)))[0]
    assert cut.text == free[: free.find(stop)] and cut.finish_reason == "stop"
    early = backend.generate([PROMPTS[0]], Sampling(max_new_tokens=10, greedy=True, stop_when=lambda t: len(t) >= 4))
    text = early[0].text
    assert len(text) >= 4 and free.startswith(text) and len(early[0].logprobs) < 10
    assert len("".join(early[0].tokens[:-1])) < 4  # it stopped at the first token that reached 4 characters


def test_batches_keep_prompts_that_share_a_prefix_together(backend):
    ids = backend.encode(PROMPTS)
    spans = backend.batches(ids)
    assert spans == [(0, 2), (2, 4)]  # the two prefix-sharing prompts, then the rest packed by padding


def test_a_folder_that_is_not_a_model_is_refused_by_name(tmp_path):
    with pytest.raises(LMError, match="is not a model"):
        HFBackend.load(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(LMError, match="could not be loaded"):
        HFBackend.load(tmp_path)


def test_a_saved_model_folder_loads_and_generates(tmp_path):
    backend = HFBackend.load(save_tiny(tmp_path / "m"), device="cpu")
    assert backend.generate(["abc"], Sampling(max_new_tokens=3, greedy=True))[0].logprobs


def test_sampling_settings_are_validated():
    for bad in ({"max_new_tokens": 0}, {"max_new_tokens": 1, "top_p": 0.0}, {"max_new_tokens": 1, "temperature": 0},
                {"max_new_tokens": 1, "top_k": -1}):
        with pytest.raises(ValueError):
            Sampling(**bad)
