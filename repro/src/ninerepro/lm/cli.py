"""Command-line pieces every prompting pipeline shares: backend arguments and one-line user errors.

User mistakes (a malformed data file, a path that is not a model, a server that is down or too slow, an output
folder from other settings) print one ``error:`` line naming the file and the fix and exit with status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from ninerepro.data.filelists import DataFormatError
from ninerepro.lm.embedded import EmbeddedModelMissing
from ninerepro.lm.jsonl_store import StoreMismatch
from ninerepro.lm.types import LMError
from ninerepro.train.config import ConfigError

USER_ERRORS = (DataFormatError, LMError, StoreMismatch, EmbeddedModelMissing, ConfigError, FileNotFoundError,
               FileExistsError, ValueError)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    p.add_argument("-v", "--verbose", action="store_true")


def add_backend_args(p: argparse.ArgumentParser) -> None:
    """``--backend --model --base-url --timeout --retries --device``, as
    :func:`ninerepro.lm.runs.make_backend` reads."""
    p.add_argument("--backend", choices=("hf", "vllm", "openai"), default="hf")
    p.add_argument("--model", default=None, help="hf: model folder or .gguf (default: embedded SmolLM2-135M); "
                                                  "vllm: model path; openai: the served model name")
    p.add_argument("--base-url", default="http://127.0.0.1:8000", help="openai backend: server address")
    p.add_argument("--timeout", type=float, default=120.0, help="openai backend: seconds per request")
    p.add_argument("--retries", type=int, default=3, help="openai backend: retries (backoff 1, 2, 4 ... s)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def run_command(args: argparse.Namespace) -> int:
    """Call ``args.func(args)``; user errors become one ``error:`` line and status 2 unless ``args.debug``."""
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    start = time.perf_counter()
    try:
        code = int(args.func(args) or 0)
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return code
