"""CGAP (Su et al., arXiv:2210.06349): closed-book QA by generating k contexts, answering from each, aggregating.

Modules, in pipeline order: ``data`` (DPR / FiD readers), ``download`` (NQ, TriviaQA, WebQuestions),
``demos`` (retrieved demonstrations), ``prompts`` (the official prompt layouts), ``cleaning`` (answer and
context extraction), ``pipeline`` (stage 1, stage 2, direct baseline; resumable), ``aggregate`` (vote and
probability weighting), ``metrics`` (EM), ``report`` (EM by k table and curve), ``cli`` and ``demo``.
"""

__version__ = "0.1.0"
