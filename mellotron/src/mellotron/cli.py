"""``mellotron-synthesize``: every inference mode from the command line, writing a wav and its alignment PNG.

    mellotron-synthesize speak    -c CKPT --text "Hello there." --speaker 3 --style 0 -o out.wav
    mellotron-synthesize speak    -c CKPT --text "Hello there." --speaker 3 --style ref.wav -o out.wav
    mellotron-synthesize transfer -c CKPT --source src.wav --source-text "..." --source-speaker 0 --speaker 5 \
                                  [--no-pitch] [--pitch-median 180] -o out.wav
    mellotron-synthesize sing     -c CKPT --score song.musicxml --bpm 132 --speakers Soprano=3,Alto=7 \
                                  [--frequency-scaling 0.4] -o out.wav

``--speaker`` is the model's speaker index (the row of its speaker table: our checkpoints keep the raw-id ->
index table under ``speakers`` in their config, also in the run folder's ``config.json``). ``--waveglow CKPT``
vocodes with WaveGlow and its denoiser, as the paper; without it Griffin-Lim is used. Errors are one line and
exit code 2 (``--debug``: the traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from mellotron.checkpoint import load_checkpoint
from mellotron.config import MellotronDataConfig
from mellotron.errors import user_errors
from mellotron.infer import Synthesis, mix, reference, sing, speak, text_ids, transfer
from mellotron.model import MellotronInputError
from ninerepro.audio.io import save_wav
from ninerepro.tts.vocoder import make_vocoder
from ninerepro.viz import plot_alignment


def parse_style(value: str, data: MellotronDataConfig) -> torch.Tensor | int:
    if value.lstrip("-").isdigit():
        return int(value)
    return reference(value, data)[0]


def parse_speakers(value: str) -> dict[str, int]:
    try:
        return {k.strip(): int(v) for k, v in (item.split("=") for item in value.split(","))}
    except ValueError:
        raise MellotronInputError(f"--speakers {value!r}: expected PART=INDEX pairs, e.g. Soprano=3,Alto=7") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mellotron-synthesize", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--checkpoint", required=True, help="ours or an official Mellotron checkpoint")
    common.add_argument("--hparams", help="JSON of official hparams.py names for an official file of other sizes")
    common.add_argument("-o", "--out", type=Path, required=True, help="output wav (an alignment PNG goes beside it)")
    common.add_argument("--waveglow", help="WaveGlow checkpoint (ours or official); default: Griffin-Lim")
    common.add_argument("--sigma", type=float, default=0.8, help="WaveGlow sigma (official notebook: 0.8)")
    common.add_argument("--denoiser-strength", type=float, default=0.01)
    common.add_argument("--device", default="cpu")
    common.add_argument("--prenet-dropout", choices=("on", "off"), default="on",
                        help="on = official (varied output); off = deterministic")
    common.add_argument("--debug", action="store_true", help="tracebacks instead of one-line errors")
    s = sub.add_parser("speak", parents=[common], help="text in a speaker's voice, style from a token or a wav")
    s.add_argument("--text", required=True)
    s.add_argument("--speaker", type=int, required=True)
    s.add_argument("--style", default="0", help="GST token index, or a reference wav at 22050 Hz")
    s.add_argument("--max-frames", type=int, default=None)
    t = sub.add_parser("transfer", parents=[common], help="rhythm and pitch from a source recording")
    t.add_argument("--source", required=True, help="source wav at 22050 Hz")
    t.add_argument("--source-text", required=True, help="the source's transcript (the model aligns it)")
    t.add_argument("--source-speaker", type=int, default=0, help="speaker index used to align the source")
    t.add_argument("--speaker", type=int, required=True, help="target speaker index")
    t.add_argument("--no-pitch", action="store_true", help="rhythm only (F0 zeros)")
    t.add_argument("--pitch-median", type=float, help="move the source F0 to this median (Hz), e.g. the target's")
    g = sub.add_parser("sing", parents=[common], help="text, rhythm and pitch from a MusicXML score")
    g.add_argument("--score", required=True)
    g.add_argument("--bpm", type=float, required=True)
    g.add_argument("--speakers", required=True, help="PART=INDEX pairs, e.g. Soprano=3,Alto=7")
    g.add_argument("--style", default="0", help="GST token index, or a reference wav")
    g.add_argument("--frequency-scaling", type=float, default=1.0, help="official Hallelujah demo: 0.4")
    g.add_argument("--convert-stress", action="store_true")
    return p


def run(args: argparse.Namespace) -> list[Path]:
    model = load_checkpoint(args.checkpoint, args.hparams, args.device)
    model.prenet_dropout = args.prenet_dropout == "on"
    data = MellotronDataConfig()
    vocoder = make_vocoder(args.waveglow, args.device, args.sigma, args.denoiser_strength)
    if args.mode == "speak":
        results = {"": speak(model, text_ids(args.text), args.speaker, parse_style(args.style, data), args.max_frames)}
    elif args.mode == "transfer":
        mel, f0 = reference(args.source, data)
        results = {"": transfer(model, text_ids(args.source_text), mel, f0, args.source_speaker, args.speaker,
                                not args.no_pitch, args.pitch_median)}
    else:
        from mellotron.musicxml import read_score

        score = read_score(args.score, args.bpm, args.convert_stress)
        speakers = parse_speakers(args.speakers)
        missing = sorted(set(score) - set(speakers))
        if missing:
            raise MellotronInputError(f"--speakers gives no speaker for part(s) {missing} of {args.score}")
        results = sing(model, score, speakers, parse_style(args.style, data), args.frequency_scaling)
    return write(results, vocoder, args.out, data.sampling_rate)


def write(results: dict[str, Synthesis], vocoder, out: Path, sr: int) -> list[Path]:
    written = []
    waves = []
    for name, syn in results.items():
        wav = vocoder(syn.mel)
        waves.append(wav)
        png = out.with_name(f"{out.stem}{'_' + name if name else ''}_alignment.png")
        plot_alignment(syn.alignment.numpy(), png, title=f"alignment {name}".strip())
        written.append(png)
    save_wav(out, mix(waves), sr)
    return [out, *written]


def synthesize_main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with user_errors("mellotron-synthesize", args.debug):
        for path in run(args):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(synthesize_main())
