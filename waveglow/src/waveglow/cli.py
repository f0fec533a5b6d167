"""``python -m waveglow.cli {train,infer,convert,demo,score} ...``: one entry point for every WaveGlow command.

The console scripts ``waveglow-train``, ``waveglow-infer`` and ``waveglow-convert`` call the same functions;
this dispatcher exists for ``make`` targets that run inside a virtualenv by path (``$(PY) -m waveglow.cli``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def _commands() -> dict[str, Callable[[list[str] | None], int]]:
    from waveglow import convert, demo, evaluate, infer, train

    return {"train": train.main, "infer": infer.main, "convert": convert.convert_main, "demo": demo.main,
            "score": evaluate.main}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _commands()
    if not argv or argv[0] not in commands:
        print(f"usage: python -m waveglow.cli {{{','.join(commands)}}} [args ...]  (each command has --help)")
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
