"""Train Deep Speech: `python train.py -c configs/tiny.json --run-dir runs/tiny data.train_manifest=M`.

Runs unchanged under `torchrun --nproc_per_node=N train.py ...` (DDP); re-running resumes.
"""

import sys

from deepspeech.train import main

if __name__ == "__main__":
    sys.exit(main())
