"""Thin entry point: ``python inference.py {speak,transfer,sing} -c CKPT ...`` (see ``mellotron-synthesize -h``)."""

import sys

from mellotron.cli import synthesize_main

if __name__ == "__main__":
    sys.exit(synthesize_main())
