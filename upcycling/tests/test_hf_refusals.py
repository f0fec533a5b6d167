"""Every refusal of `upcycle convert` happens before anything is written, and names the problem."""

import json

import pytest

from upcycling.cli import main as upcycle_main
from upcycling.hf import convert as convert_mod
from upcycling.hf.convert import convert_checkpoint
from upcycling.hf.tiny import make_tiny_dense


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama")
    make_tiny_dense(folder, "llama", tokenizer=False)
    return folder


def nothing_written(parent):
    return not (parent / "moe").exists() and not [p for p in parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(("options", "match"), [
    (dict(num_experts=4, topk=2, granularity=3), "does not divide"),
    (dict(num_experts=8, topk=3, granularity=2), "not a multiple of granularity"),
    (dict(num_experts=6, topk=4, granularity=4), "num_experts N=6 is not a multiple"),
    (dict(num_experts=2, topk=4), "exceeds"),
    (dict(num_experts=4, topk=2, router_order="softmax_topk", layout="mixtral"), "always renormalises"),
    (dict(num_experts=4, topk=2, layout="olmoe"), "unknown layout"),
])
def test_impossible_moe_shapes_are_refused_before_writing(llama_dir, tmp_path, options, match):
    with pytest.raises(ValueError, match=match):
        convert_checkpoint(llama_dir, tmp_path / "moe", **options)
    assert nothing_written(tmp_path)


def test_an_unknown_architecture_is_refused_naming_config_json(tmp_path):
    src = tmp_path / "gpt2"
    src.mkdir()
    (src / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_embd": 64}))
    with pytest.raises(ValueError, match=r"config\.json: model_type 'gpt2' is not supported"):
        convert_checkpoint(src, tmp_path / "moe", num_experts=4, topk=2)
    assert nothing_written(tmp_path)


@pytest.mark.parametrize(("family", "extra", "match"), [
    ("llama", dict(mlp_bias=True), "mlp_bias=true is not supported"),
    ("llama", dict(attention_bias=True), "attention_bias=true is not supported"),
    ("qwen2", {}, "q/k/v biases"),
])
def test_sources_a_target_cannot_express_are_refused(tmp_path, family, extra, match):
    src = tmp_path / "dense"
    make_tiny_dense(src, family, tokenizer=False, **extra)
    layout = "mixtral" if family == "qwen2" else "auto"
    with pytest.raises(ValueError, match=match):
        convert_checkpoint(src, tmp_path / "moe", num_experts=4, topk=2, router_order="topk_softmax", layout=layout)
    assert nothing_written(tmp_path)


def test_a_non_empty_output_folder_is_refused_unless_overwrite(llama_dir, tmp_path):
    out = tmp_path / "moe"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="--overwrite"):
        convert_checkpoint(llama_dir, out, num_experts=4, topk=2)
    assert (out / "old.txt").read_text() == "keep me"
    convert_checkpoint(llama_dir, out, num_experts=4, topk=2, overwrite=True)
    assert not (out / "old.txt").exists() and (out / "config.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_empty_output_folder_is_used(llama_dir, tmp_path):
    (tmp_path / "moe").mkdir()
    convert_checkpoint(llama_dir, tmp_path / "moe", num_experts=4, topk=2)
    assert (tmp_path / "moe" / "config.json").is_file()


def test_a_checkpoint_missing_an_mlp_tensor_is_refused(tmp_path):
    src = tmp_path / "dense"
    make_tiny_dense(src, "llama", tokenizer=False)
    index_path = src / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    del index["weight_map"]["model.layers.1.mlp.up_proj.weight"]
    index_path.write_text(json.dumps(index))
    with pytest.raises(ValueError, match=r"missing, e\.g\. \['model\.layers\.1\.mlp\.up_proj\.weight'\]"):
        convert_checkpoint(src, tmp_path / "moe", num_experts=4, topk=2)
    assert nothing_written(tmp_path)


def test_a_folder_without_safetensors_is_refused(tmp_path):
    src = tmp_path / "dense"
    make_tiny_dense(src, "llama", tokenizer=False, max_shard_size="10MB")
    (src / "model.safetensors").rename(src / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError, match="safe_serialization=True"):
        convert_checkpoint(src, tmp_path / "moe", num_experts=4, topk=2)


def test_a_crash_while_writing_leaves_no_output_folder(llama_dir, tmp_path, monkeypatch):
    calls = {"n": 0}
    real_add = convert_mod.ShardedWriter.add

    def failing_add(self, key, tensor):
        calls["n"] += 1
        if calls["n"] == 20:
            raise OSError("disk full (simulated)")
        real_add(self, key, tensor)

    monkeypatch.setattr(convert_mod.ShardedWriter, "add", failing_add)
    with pytest.raises(OSError, match="simulated"):
        convert_checkpoint(llama_dir, tmp_path / "moe", num_experts=4, topk=2, max_shard_size="50KB")
    assert nothing_written(tmp_path)


def test_the_console_script_reports_a_refusal_in_one_line(llama_dir, tmp_path, capsys):
    rc = upcycle_main(["convert", "--dense", str(llama_dir), "--out", str(tmp_path / "moe"), "--num-experts", "8",
                       "--topk", "3", "--granularity", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "T=3 is not a multiple of granularity G=2" in err and "Traceback" not in err


def test_the_console_script_reports_an_occupied_output_folder_in_one_line(llama_dir, tmp_path, capsys):
    out = tmp_path / "moe"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    rc = upcycle_main(["convert", "--dense", str(llama_dir), "--out", str(out), "--num-experts", "4", "--topk", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [f"upcycle convert: error: --out {out} exists and is not empty; "
                                        "pick a new folder or pass --overwrite"]
    assert (out / "old.txt").read_text() == "keep me"
