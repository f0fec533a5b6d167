"""ReProver's premise retriever: a dual encoder (mean-pooled, L2-normalised ByT5 encoder by default),
a FAISS premise index filtered by accessibility, the BM25 baseline, training data and losses, metrics.

Entry points: :class:`reprover.retrieval.retriever.DenseRetriever`, :class:`~reprover.retrieval.retriever.
BM25Retriever`, :func:`reprover.retrieval.checkpoint.load_dense_retriever`,
:func:`reprover.retrieval.evaluate.evaluate_retrieval`; the CLI is ``reprover retrieve-eval``.
"""
