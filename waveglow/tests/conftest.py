"""--import-mode=importlib (the repository's pytest setting) puts no test folder on sys.path; the shared test
helpers in wg_testkit.py need this one."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
