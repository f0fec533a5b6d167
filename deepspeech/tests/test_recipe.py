"""The paper's recipe on any GPU count: epoch-derived max_steps, the paper-size configs, best-by-WER checkpoint."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest
import torch
from ds_testkit import CONFIGS, tiny_config, write_corpus

from deepspeech.config import DeepSpeechConfig
from deepspeech.data import SortaGradSampler
from deepspeech.infer import Transcriber
from deepspeech.model import build_model, count_parameters
from deepspeech.train import build_trainer, epoch_schedule
from ninerepro.train import load_config

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "librispeech.sh"


def _meta_model(cfg: DeepSpeechConfig):
    with torch.device("meta"):  # shapes only: no 146 M-parameter initialisation
        return build_model(cfg, 29)


def _params(name: str) -> tuple[DeepSpeechConfig, int]:
    cfg = load_config(DeepSpeechConfig, CONFIGS / name)
    return cfg, count_parameters(_meta_model(cfg))


def test_the_table3_sized_gru_config_has_about_38_million_parameters():
    cfg, n = _params("ds2_gru_38m.json")
    assert cfg.model.rnn_type == "gru" and cfg.model.bidirectional and cfg.model.fc_hidden > 0
    assert 36e6 < n < 40e6, n  # DS2 Table 3: ~38 M parameters per model
    assert n == 37_788_800


def test_the_paper_configs_have_the_fully_connected_layer_before_the_output():
    for name in ("ds2_librispeech.json", "ds2_gru_38m.json"):
        cfg = load_config(DeepSpeechConfig, CONFIGS / name)
        model = _meta_model(cfg)
        assert model.fc is not None and model.fc.out_features == cfg.model.fc_hidden, name
        assert model.out.in_features == cfg.model.fc_hidden
    cfg, n = _params("ds2_librispeech.json")
    assert n == 146_041_248 and cfg.epochs == 20


@pytest.mark.parametrize("world", [1, 2, 8])
def test_max_steps_follow_epochs_times_utterances_over_the_global_batch(world, capsys):
    cfg = load_config(DeepSpeechConfig, CONFIGS / "ds2_librispeech.json")
    n = 1000
    per_rank = len(SortaGradSampler([100] * n, cfg.data.batch_size, num_replicas=world, rank=0))
    derived = epoch_schedule(cfg, n, per_rank, world)
    per_epoch = math.ceil(n / (cfg.data.batch_size * world))
    assert derived.train.max_steps == 20 * per_epoch
    assert derived.train.val_every == derived.train.ckpt_every == per_epoch  # validations_per_epoch 1
    out = capsys.readouterr().out
    assert f"max_steps {20 * per_epoch:,} = 20 epochs x {per_epoch} steps/epoch" in out
    assert f"global batch {64 * world} = 64 per GPU x {world} GPU(s) x 1 accumulation" in out


def test_gradient_accumulation_counts_in_the_global_batch():
    cfg = load_config(DeepSpeechConfig, CONFIGS / "ds2_librispeech.json", ["train.grad_accum=4"])
    assert epoch_schedule(cfg, 1000, 16, 1, announce=False).train.max_steps == 20 * 4  # ceil(16 / 4) per epoch


def test_without_epochs_max_steps_is_kept_and_validations_need_epochs():
    cfg = load_config(DeepSpeechConfig, CONFIGS / "tiny.json")
    assert epoch_schedule(cfg, 1000, 50, 1) is cfg
    with pytest.raises(ValueError, match="validations_per_epoch needs epochs"):
        load_config(DeepSpeechConfig, CONFIGS / "tiny.json", ["validations_per_epoch=2"])


def test_training_keeps_the_checkpoint_with_the_best_dev_wer(tmp_path):
    texts = ["ab ba", "a b", "ba ab", "abba"]
    train = write_corpus(tmp_path / "corpus", texts)
    dev = write_corpus(tmp_path / "corpus", texts, name="dev.jsonl")
    cfg = tiny_config(f"data.train_manifest={train}", f"data.val_manifest={dev}", "epochs=3",
                      "validations_per_epoch=1", "train.optimizer.lr=0.02")
    trainer = build_trainer(cfg, tmp_path / "run")
    assert trainer.cfg.max_steps == 6  # 3 epochs x ceil(4 / 2)
    seen: list[tuple[int, float]] = []
    inner = trainer.val_fn
    trainer.val_fn = lambda m: (r := inner(m), seen.append((trainer.state.step, r["wer"])))[0]
    trainer.fit()
    assert [s for s, _ in seen] == [2, 4, 6]
    record = json.loads((tmp_path / "run" / "best.json").read_text())
    best_step, best_wer = min(seen, key=lambda sw: (sw[1], sw[0]))
    assert record["wer"] == best_wer and record["step"] == best_step
    t = Transcriber.from_checkpoint(tmp_path / "run" / "best.pt")  # loadable where any checkpoint is
    assert t.cfg.epochs == 3
    # a resumed run knows the best so far: a model that is not better never replaces it
    again = build_trainer(cfg, tmp_path / "run")
    assert again.resume() and again.state.step == 6
    before = (tmp_path / "run" / "best.pt").stat().st_mtime_ns
    again.model.eval()
    assert again.val_fn(again.model)["wer"] == seen[-1][1]  # the last model, validated again
    if seen[-1][1] >= best_wer:  # the final model is not better than the best: best.pt untouched
        assert (tmp_path / "run" / "best.pt").stat().st_mtime_ns == before
        assert json.loads((tmp_path / "run" / "best.json").read_text())["step"] == best_step


def test_the_recipe_builds_its_lm_from_the_librispeech_lm_corpus_and_decodes_with_the_best_checkpoint():
    text = RECIPE.read_text()
    assert "librispeech-lm-norm.txt.gz" in text and "deepspeech.lm_corpus" in text
    assert "train/best.pt" in text
    assert subprocess.run(["bash", "-n", str(RECIPE)]).returncode == 0


def test_the_lm_corpus_download_resumes_into_place_and_feeds_the_lm_builder(tmp_path):
    """Served from a loopback HTTP server (bounded: one file, then shut down)."""
    import functools
    import gzip
    import http.server
    import threading

    from deepspeech.lm_corpus import FILENAME, corpus_path
    from deepspeech.lm_corpus import main as corpus_main
    from deepspeech.ngram import NGramLM, build_arpa

    served = tmp_path / "served"
    served.mkdir()
    (served / FILENAME).write_bytes(gzip.compress(b"THE CAT SAT\nTHE DOG SAT\n" * 20))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{FILENAME}"
        assert corpus_main(["--root", str(tmp_path / "data"), "--url", url]) == 0
    finally:
        server.shutdown()
        thread.join(timeout=5)
    path = corpus_path(tmp_path / "data")
    assert path.read_bytes() == (served / FILENAME).read_bytes()
    lm = NGramLM.load(build_arpa(path, tmp_path / "lm.arpa", 2))
    assert ("the", "cat") in lm.tables[1]
