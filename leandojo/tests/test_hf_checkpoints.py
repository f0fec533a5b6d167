"""Released ReProver checkpoints are Hugging Face folders: tiny random T5/ByT5 models saved in that layout load
as our retriever and generator, give the outputs plain transformers gives, and feed a saved premise index."""

import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    ByT5Tokenizer,
    T5Config,
    T5EncoderModel,
    T5ForConditionalGeneration,
    T5Tokenizer,
)

from ninerepro.train import CheckpointError
from reprover.cli import main
from reprover.convert import hf_generator_uses_retrieval, is_hf_folder
from reprover.generation.checkpoint import RetrieverRequiredError, load_generator
from reprover.retrieval.checkpoint import load_dense_retriever
from reprover.retrieval.retriever import Query
from reprover.retrieval.saved_index import IndexMismatchError


def tiny_config(vocab_size=384):
    return T5Config(vocab_size=vocab_size, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
                    num_decoder_layers=1, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
                    tie_word_embeddings=False)


def t5_sentencepiece_tokenizer():
    """A T5 (unigram) tokenizer built from a short vocabulary: the layout of t5-small's, without a download."""
    words = ["rw", "simp", "exact", "intro", "apply", "⊢", "n", "m", "x", "y", "=", "+", "*", "(", ")", "[", "]",
             ":", "ℕ", "Nat", "add", "mul", "zero", "succ"]
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(f"▁{w}", -1.0 - i) for i, w in enumerate(words)]
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,:=+*()[]⊢ℕ∣'"
    vocab += [(c, -30.0) for c in chars]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def save_hf(folder, model, tokenizer, weights="safetensors"):
    torch.manual_seed(0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if weights == "bin":  # the older layout of the released folders: a plain state dict, read weights_only
        state = {k: v.clone() for k, v in model.state_dict().items()}
        (folder / "model.safetensors").unlink()
        torch.save(state, folder / "pytorch_model.bin")
    return folder


@pytest.fixture(scope="module")
def hf_models(tmp_path_factory):
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("hf")
    byt5 = ByT5Tokenizer()
    return {
        "retriever": save_hf(root / "leandojo-lean4-retriever-byt5-small", T5EncoderModel(tiny_config()), byt5),
        "retriever_bin": save_hf(root / "retriever-bin", T5EncoderModel(tiny_config()), byt5, "bin"),
        "tacgen": save_hf(root / "leandojo-lean4-tacgen-byt5-small", T5ForConditionalGeneration(tiny_config()), byt5),
        "rag_tacgen": save_hf(root / "leandojo-lean4-retriever-tacgen-byt5-small",
                              T5ForConditionalGeneration(tiny_config()), byt5, "bin"),
        "t5": save_hf(root / "t5-tacgen", T5ForConditionalGeneration(tiny_config(vocab_size=128)),
                      t5_sentencepiece_tokenizer()),
    }


def rp_encode(folder, texts):
    """RP's retriever encoding written out: mean of the last hidden states over the mask, L2-normalised."""
    tok = AutoTokenizer.from_pretrained(folder)
    model = T5EncoderModel.from_pretrained(folder).eval()
    enc = tok(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask).last_hidden_state
    lens = enc.attention_mask.sum(dim=1)
    features = (hidden * enc.attention_mask.unsqueeze(2)).sum(dim=1) / lens.unsqueeze(1)
    return F.normalize(features, dim=1).numpy()


@pytest.mark.parametrize("which", ["retriever", "retriever_bin"])
def test_a_hugging_face_retriever_folder_embeds_like_plain_transformers(hf_models, bench, which):
    folder = hf_models[which]
    assert is_hf_folder(folder)
    retriever = load_dense_retriever(folder, bench.corpus)
    states = ["n : ℕ\n⊢ n + 0 = n", "⊢ Toy.double 0 = 0"]
    from reprover.retrieval.encode import embed_texts

    ours = embed_texts(retriever.model, retriever.tokenizer, states, retriever.max_seq_len)
    np.testing.assert_allclose(ours, rp_encode(folder, states), atol=1e-5)


def test_a_saved_premise_index_gives_the_same_ranking_and_refuses_another_corpus(hf_models, fixture_root, bench,
                                                                                  tmp_path, capsys, bench_copy):
    folder = hf_models["retriever"]
    assert main(["index", "--data", str(fixture_root), "--retriever", str(folder), "--output",
                 str(tmp_path / "idx")]) == 0
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == ["embeddings.npy", "index.json"]
    fresh = load_dense_retriever(folder, bench.corpus)
    saved = load_dense_retriever(folder, bench.corpus, indexed_corpus=tmp_path / "idx")
    assert isinstance(saved.index.embeddings, np.memmap)  # shared through the page cache, not copied
    thm = bench.split("random", "test")[0]
    queries = [Query(s.state_before, thm.file_path, thm.start) for s in thm.traced_tactics]
    a, b = fresh.retrieve(queries, 10), saved.retrieve(queries, 10)
    assert [[p.full_name for p, _ in r] for r in a] == [[p.full_name for p, _ in r] for r in b]
    np.testing.assert_allclose([[s for _, s in r] for r in a], [[s for _, s in r] for r in b], atol=1e-5)
    # another corpus: refused with the command that rebuilds the index
    lines = (bench_copy / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["premises"] = first["premises"][1:]
    (bench_copy / "corpus.jsonl").write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n")
    from reprover.data import Benchmark

    with pytest.raises(IndexMismatchError, match="reprover index"):
        load_dense_retriever(folder, Benchmark(bench_copy).corpus, indexed_corpus=tmp_path / "idx")
    rc = main(["retrieve-eval", "--data", str(bench_copy), "--retriever", str(folder), "--indexed-corpus",
               str(tmp_path / "idx"), "--output", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "reprover index" in err


@pytest.mark.parametrize("which", ["tacgen", "t5"])
def test_a_hugging_face_generator_folder_decodes_like_plain_transformers(hf_models, which):
    folder = hf_models[which]
    ours = load_generator(folder, device="cpu", max_oup_seq_len=12)  # random weights never stop on their own
    state = "n : ℕ\n⊢ n + 0 = n"
    got = ours.generate(state, "Mathlib/Toy/Basic.lean", "Toy.x", (1, 1), 4)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    enc = tok(state, return_tensors="pt")
    with torch.no_grad():  # RP's HuggingFaceGenerator call
        out = model.generate(input_ids=enc.input_ids, attention_mask=enc.attention_mask, max_length=12,
                             num_beams=4, length_penalty=0.0, do_sample=False, num_return_sequences=4,
                             early_stopping=False, output_scores=True, return_dict_in_generate=True)
    texts = tok.batch_decode(out.sequences, skip_special_tokens=True)
    expected, seen = [], set()
    for t, s in zip(texts, out.sequences_scores.tolist(), strict=True):
        if t.strip() and t.strip() not in seen:
            seen.add(t.strip())
            expected.append((t.strip(), s))
    assert [t for t, _ in got] == [t for t, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-4)


def test_the_released_retrieval_augmented_generator_refuses_to_run_without_a_retriever(hf_models, fixture_root,
                                                                                       tmp_path, capsys):
    rag = hf_models["rag_tacgen"]
    assert hf_generator_uses_retrieval(rag) and not hf_generator_uses_retrieval(hf_models["tacgen"])
    with pytest.raises(RetrieverRequiredError, match="--allow-no-retriever"):
        load_generator(rag, device="cpu")
    assert load_generator(rag, device="cpu", allow_no_retriever=True).retriever is None
    out = tmp_path / "o.json"
    rc = main(["prove", "--data", str(fixture_root), "--subset", "test", "--generator", str(rag), "--output",
               str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "--retriever" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_prove_runs_a_released_generator_with_a_released_retriever_and_a_saved_index(hf_models, fixture_root,
                                                                                     tmp_path):
    assert main(["index", "--data", str(fixture_root), "--retriever", str(hf_models["retriever"]), "--output",
                 str(tmp_path / "idx")]) == 0
    out = tmp_path / "o.json"
    rc = main(["prove", "--data", str(fixture_root), "--subset", "test", "--generator",
               str(hf_models["rag_tacgen"]), "--retriever", str(hf_models["retriever"]), "--indexed-corpus",
               str(tmp_path / "idx"), "--num-sampled-tactics", "2", "--max-expansions", "1", "--num-theorems", "2",
               "--max-oup-seq-len", "8",
               "--output", str(out), "--no-progress"])
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert rc == 0 and len(summary["per_theorem"]) == 2
    assert summary["config"]["retriever"] == str(hf_models["retriever"])


def test_weights_that_do_not_fit_config_json_are_refused_in_one_report(hf_models, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(hf_models["tacgen"], bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["d_ff"] = 48
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"do not fit its config\.json"):
        load_generator(bad, device="cpu")
