"""Downstream evaluation of our and Hugging Face checkpoints (MMLU, the paper's Table 1 metric)."""
