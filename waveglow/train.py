"""Train WaveGlow: ``python train.py -c configs/ljs_256.json [key=value ...] [--run-dir runs/x]``.

Multi-GPU: ``torchrun --nproc_per_node=N train.py -c configs/ljs_256.json``. Re-running the same command
resumes from the newest checkpoint in the run folder. The work is done by ``waveglow.train``.
"""

import sys

from waveglow.train import main

if __name__ == "__main__":
    sys.exit(main())
