"""Hugging Face interop: upcycle HF dense checkpoints into HF MoE checkpoints, and move our GPT to and from HF.

- ``convert`` / ``plan``: ``upcycle convert`` (dense Llama/Mistral/Qwen2 folder → Mixtral or Qwen2-MoE folder
  that ``AutoModelForCausalLM.from_pretrained`` loads with no custom code); streaming, shard by shard.
- ``layouts``: source families, target layouts, key names and config mapping (the table is there).
- ``experts``: one dense projection → N expert tensors, using the math of ``upcycling.upcycle``.
- ``safetensors_io``: lazy sharded reads, size-capped shard writes with an index.
- ``ours``: ``ours_to_hf`` / ``hf_to_ours`` state-dict and config mapping for our GPT (dense and MoE).

Submodules are imported on use: ``transformers`` is needed only to load the results, not to write them.
"""
