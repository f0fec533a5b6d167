"""Mellotron's user errors (one line, exit code 2): the toolkit's common ones plus an unservable request."""

from mellotron.model import MellotronInputError
from ninerepro.cli_errors import user_errors_with

user_errors = user_errors_with(MellotronInputError)
