"""Transcribe audio: `python inference.py a.wav b.wav --checkpoint runs/tiny [--lm lm.arpa] [--json]`.

The same command as `deepspeech-transcribe`; see `deepspeech.cli` for every option.
"""

import sys

from deepspeech.cli import transcribe_main

if __name__ == "__main__":
    sys.exit(transcribe_main())
