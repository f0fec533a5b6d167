"""Entry point for ``python -m ninerepro.data.synth``; the command line lives in :mod:`ninerepro.data.synth.cli`."""

from ninerepro.data.synth.cli import main

raise SystemExit(main())
