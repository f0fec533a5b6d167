"""Thin entry point: ``python train.py -c configs/mellotron.json [key=value ...]`` (also under torchrun)."""

import sys

from mellotron.train import main

if __name__ == "__main__":
    sys.exit(main())
