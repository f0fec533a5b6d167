import json
from pathlib import Path

import numpy as np
import pytest
import torch

from upcycling.data import TokenFile, WindowBatchSampler, Windows, train_loader, val_batches
from upcycling.prepare import prepare_tokens, stdlib_files


def _corpus(tmp_path, n=10):
    files = []
    for i in range(n):
        p = tmp_path / f"doc{i:02d}.txt"
        p.write_text(f"document {i}: " + "héllo wörld " * (20 + i), encoding="utf-8")
        files.append(str(p))
    return files


def test_prepare_writes_byte_tokens_and_holds_out_whole_documents(tmp_path):
    files = _corpus(tmp_path)
    meta = prepare_tokens(files, tmp_path / "t.bin", val_fraction=0.2)
    tf = TokenFile(tmp_path / "t.bin")
    assert meta["dtype"] == "uint16" and tf.vocab_size == 256
    val_docs = [f for i, f in enumerate(files) if i % 5 == 4]
    expected_val = b"".join(Path(f).read_bytes() for f in val_docs)
    assert bytes(tf.val.astype(np.uint8)) == expected_val
    assert len(tf.train) + len(tf.val) == sum(len(Path(f).read_bytes()) for f in files)


def test_the_stdlib_file_list_is_sorted_and_has_no_tests():
    files = stdlib_files()
    assert len(files) > 100 and len(set(files)) == len(files)
    assert stdlib_files() == files
    assert not any("/test/" in f or "site-packages" in f for f in files)


def test_windows_are_shifted_by_one(tmp_path):
    ds = Windows(np.arange(100, dtype=np.uint16), seq_len=8)
    x, y = ds[5]
    assert x.tolist() == list(range(5, 13)) and y.tolist() == list(range(6, 14))
    assert x.dtype == torch.int64


def test_the_sampler_is_deterministic_and_resumes_at_a_batch():
    a = list(WindowBatchSampler(1000, 4, 6, seed=3))
    s = WindowBatchSampler(1000, 4, 6, seed=3)
    s.set_start(4)
    assert list(s) == a[4:]
    assert list(s) == a  # the skip applies to one pass only


def test_ranks_take_disjoint_slices_of_the_global_batch():
    full = list(WindowBatchSampler(1000, 8, 3, seed=1, world_size=1))
    r0 = list(WindowBatchSampler(1000, 4, 3, seed=1, rank=0, world_size=2))
    r1 = list(WindowBatchSampler(1000, 4, 3, seed=1, rank=1, world_size=2))
    rng = np.random.default_rng([1, 0, 0])
    starts = rng.integers(0, 1000, size=8).tolist()
    assert r0[0] + r1[0] == starts and len(full[0]) == 8


def test_epochs_draw_different_batches():
    s = WindowBatchSampler(1000, 4, 2, seed=0)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first


def test_loader_and_val_batches_have_the_configured_shapes(tmp_path):
    prepare_tokens(_corpus(tmp_path), tmp_path / "t.bin", val_fraction=0.2)
    tf = TokenFile(tmp_path / "t.bin")
    x, y = next(iter(train_loader(tf, 16, 3, seed=0)))
    assert x.shape == y.shape == (3, 16)
    vb = val_batches(tf, 16, 3, 2)
    assert len(vb) == 2 and vb[0][0].shape == (3, 16)
    assert torch.equal(vb[0][0], val_batches(tf, 16, 3, 2)[0][0])


def test_a_truncated_token_file_is_refused_with_the_fix(tmp_path):
    prepare_tokens(_corpus(tmp_path), tmp_path / "t.bin", val_fraction=0.2)
    data = (tmp_path / "t.bin").read_bytes()
    (tmp_path / "t.bin").write_bytes(data[:-10])
    with pytest.raises(ValueError, match="re-run `upcycle prepare`"):
        TokenFile(tmp_path / "t.bin")


def test_a_foreign_meta_file_is_refused(tmp_path):
    (tmp_path / "t.bin").write_bytes(b"\0\0")
    (tmp_path / "t.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not an `upcycle prepare` meta"):
        TokenFile(tmp_path / "t.bin")


def test_prepare_uses_a_local_hugging_face_tokenizer_and_appends_eos(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "</s>": 1, "hello": 2, "world": 3}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="</s>").save_pretrained(tmp_path / "tok")
    files = []
    for i in range(4):
        (tmp_path / f"{i}.txt").write_text("hello world hello")
        files.append(str(tmp_path / f"{i}.txt"))
    meta = prepare_tokens(files, tmp_path / "t.bin", tokenizer=str(tmp_path / "tok"), val_fraction=0.25)
    tf = TokenFile(tmp_path / "t.bin")
    assert meta["vocab_size"] == 4 and meta["tokenizer"].startswith("hf:")
    assert tf.train[:4].tolist() == [2, 3, 2, 1]
