"""Upcycling dense language models into Mixture of Experts (He et al., arXiv 2410.07524).

Parts: ``config`` (GPT, MoE and run configs), ``model`` (Megatron-style GPT whose MLP is dense or MoE),
``moe`` (router, dispatch, experts, layer), ``upcycle`` (dense → MoE state-dict transform with virtual
groups and weight scaling), ``data``/``train`` (memory-mapped token training), ``hf`` (Hugging Face interop).
Submodules are imported on use so ``import upcycling`` stays cheap.
"""

__version__ = "0.1.0"
