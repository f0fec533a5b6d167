"""Command line: ``python -m ninerepro.audio.resample IN OUT --sr N`` converts one file's sample rate.

This is the fix that :class:`ninerepro.audio.errors.SampleRateError` points users to.
"""

from __future__ import annotations

import argparse

from ninerepro.audio.io import load_wav, resample, save_wav


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Resample a wav/flac file (soxr HQ).")
    parser.add_argument("input", help="input wav or flac file")
    parser.add_argument("output", help="output file; its suffix (.wav/.flac) picks the format")
    parser.add_argument("--sr", type=int, required=True, help="target sample rate in Hz")
    parser.add_argument("--subtype", default="PCM_16", help="soundfile subtype (default PCM_16)")
    args = parser.parse_args(argv)
    wav, sr = load_wav(args.input, mono=False)
    save_wav(args.output, resample(wav, sr, args.sr), args.sr, subtype=args.subtype)
    print(f"{args.input} ({sr} Hz) -> {args.output} ({args.sr} Hz)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
