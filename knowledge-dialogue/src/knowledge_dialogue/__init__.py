"""MSDP (Liu et al., arXiv:2203.08745): knowledgeable dialogue by prompting an LM twice, knowledge then response.

Modules, in pipeline order: ``data`` (Wizard of Wikipedia / Wizard of Internet readers, the official
preprocessing to Megatron's TSV), ``download`` (the ParlAI releases), ``tokens`` (NLTK ``word_tokenize``
offline), ``demos`` (stage-1 demonstrations by similarity, stage-2 fixed demonstrations by knowledge overlap),
``prompts`` (the official layouts), ``pipeline`` (stage 1, stage 2 and the single-stage baseline; resumable),
``metrics`` (F1 / KF1 as ``tasks/msdp``, BLEU, ROUGE-L), ``report``, ``runner``, ``cli``, ``server`` and ``demo``.
"""

__version__ = "0.1.0"
