"""Entry point for ``python -m repro.data.synth``; the command line lives in :mod:`repro.data.synth.cli`."""

from repro.data.synth.cli import main

raise SystemExit(main())
