"""Datasets for the reproductions: embedded synthetic corpora, real-dataset download and preparation,
filelist/manifest I/O, and length-bucketed batching.

Submodules are imported explicitly (``from ninerepro.data.sampler import BucketBatchSampler``) so that importing
``ninerepro.data`` stays cheap.
"""
