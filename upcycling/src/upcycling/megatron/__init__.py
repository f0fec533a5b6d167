"""Megatron-Core interop: key layout (``layout``), legacy and ``torch_dist`` checkpoints (``checkpoint``), and
the paper-scale Megatron-LM launch (``launch``)."""
