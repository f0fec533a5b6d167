"""Repository-wide pytest set-up.

pytest's importlib mode names a test file after its path (``repro/tests/test_x.py`` becomes
``ninerepro.tests.test_x``) and registers the missing parents as empty namespace modules, which would shadow
the real package of that name (``waveglow/tests/test_x.py`` → ``waveglow.tests.test_x`` and the package
``waveglow``, ``flowtron``, ...: each lives in ``<folder>/src/<pkg>``, the toolkit in ``repro/src/ninerepro``).
Importing every installed package here, before collection, keeps the real ones in ``sys.modules``.
"""

import importlib
import importlib.util
from pathlib import Path

_ROOT = Path(__file__).parent
for _init in sorted(_ROOT.glob("*/src/*/__init__.py")):
    # a subproject that is not installed yet (run `make setup`) fails in its own tests, not here
    if importlib.util.find_spec(_init.parent.name) is not None:
        importlib.import_module(_init.parent.name)
