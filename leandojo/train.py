"""Train ReProver's premise retriever or tactic generator.

    python train.py retriever -c configs/retriever_byt5_small.json [--run-dir DIR] [key=value ...]
    python train.py generator -c configs/generator_byt5_small.json data.retriever=runs/retriever/best
    torchrun --nproc_per_node=8 train.py retriever -c configs/retriever_byt5_small.json   # DDP

Run it from leandojo/: relative paths (the config file, data.data_path, --run-dir) are read from the working
directory, and the official configs' data.data_path ../data/leandojo_benchmark_4 is where `make data-leandojo`
puts the release. Re-running the same command resumes from the run folder's newest checkpoint. The final
weights are exported to <run>/final and the best on validation to <run>/best (inputs to `reprover
retrieve-eval --retriever`, `reprover prove --generator/--retriever` and the generator's data.retriever).
"""

from __future__ import annotations

import logging
import sys

from ninerepro.train import CheckpointError, ConfigError, close_distributed
from ninerepro.train.cli import load_run_config, parse_train_args

PARTS = ("retriever", "generator")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in PARTS:
        print(f"usage: python train.py {{{','.join(PARTS)}}} -c CONFIG [--run-dir DIR] [key=value ...]",
              file=sys.stderr)
        return 2
    part, rest = argv[0], argv[1:]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_train_args(f"train ReProver's {part}", rest)
    from reprover.data import BenchmarkFormatError

    try:
        if part == "retriever":
            from reprover.retrieval.config import RetrieverRunConfig
            from reprover.training.retriever import train_retriever

            out = train_retriever(load_run_config(RetrieverRunConfig, args), args.run_dir)
        else:
            from reprover.generation.config import GeneratorRunConfig
            from reprover.training.generator import train_generator

            out = train_generator(load_run_config(GeneratorRunConfig, args), args.run_dir)
    except (ConfigError, BenchmarkFormatError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        close_distributed()
    print(f"exported {part} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
