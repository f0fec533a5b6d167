"""Train the CRNN: `python train.py -c configs/arik2017.json --run-dir runs/x data.corpus=CORPUS`.

Runs unchanged under `torchrun --nproc_per_node=N train.py ...` (DDP); re-running resumes.
"""

import sys

from crnn_kws.train import main

if __name__ == "__main__":
    sys.exit(main())
