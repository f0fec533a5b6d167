"""Fixtures of the crnn-kws tests (helpers live in kws_testkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib (repo pytest config) puts no test folder on sys.path; the helpers need it
sys.path.insert(0, str(Path(__file__).parent))
