"""Training loops for the retriever and the generator on ``ninerepro.train.Trainer``, and model export/loading.

Run them through ``python train.py {retriever,generator} -c configs/<name>.json`` from ``leandojo/``.
"""
