"""--import-mode=importlib puts no test folder on sys.path; the shared helpers in flowtron_testkit.py need it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
