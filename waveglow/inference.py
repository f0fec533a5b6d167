"""Synthesise wavs from mels: ``python inference.py -c CKPT -f MELS_OR_FILELIST -o OUTDIR --sigma 0.6``.

Options: ``--denoiser-strength 0.01``, ``--half`` (CUDA), ``--batch-size N``; ``--help`` lists all. The same
command is installed as ``waveglow-infer``. The work is done by ``waveglow.infer``.
"""

import sys

from waveglow.infer import main

if __name__ == "__main__":
    sys.exit(main())
