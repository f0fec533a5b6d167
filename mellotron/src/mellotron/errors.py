"""One line and exit code 2 for a user's mistake; a traceback only with ``--debug``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from mellotron.model import MellotronInputError
from repro.audio.errors import AudioFileError, SampleRateError
from repro.data.filelists import DataFormatError
from repro.train.checkpoint import CheckpointError
from repro.train.config import ConfigError

USER_ERRORS = (MellotronInputError, AudioFileError, SampleRateError, DataFormatError, CheckpointError, ConfigError,
               FileNotFoundError, ValueError)


@contextlib.contextmanager
def user_errors(prog: str, debug: bool = False) -> Iterator[None]:
    try:
        yield
    except USER_ERRORS as exc:
        if debug:
            raise
        message = str(exc).strip() or type(exc).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None
