"""The stages of ``make reproduce-crnn-kws`` that are not training or evaluation (those are train.py and
crnn-kws-eval): checking the Speech Commands folder, linking the wake-word corpus, writing the report.

``python -m crnn_kws.recipe commands-check --root SC --out splits.json``: split sizes under the official
SHA-1 rule (every clip read once by name; the split lists checked line by line).
``python -m crnn_kws.recipe wake-word-corpus --out DIR --positives P --librispeech L --noise N``: see
``crnn_kws.user_corpus``.
``python -m crnn_kws.recipe report --exp EXP``: EXP/report.md from whichever evaluations exist, each number
beside the paper's and the environment it was measured in.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crnn_kws.cli import run_guarded
from crnn_kws.evaluate import PAPER_ACCURACY
from ninerepro import envinfo
from ninerepro.atomic import atomic_write_text


def commands_check(root: Path, out: Path) -> dict:
    """Split sizes (known / silence / unknown) of each split; a broken folder fails here, not in training."""
    from crnn_kws.commands import CommandsSplit

    counts = {split: CommandsSplit.load(root, split, 16000).counts() for split in ("train", "validation", "test")}
    atomic_write_text(out, json.dumps({"root": str(root), "splits": counts}, indent=1) + "\n")
    return counts


def report(exp: Path) -> str:
    """Markdown of the evaluations found under ``exp`` (commands/eval.json, wake-word/eval.json)."""
    lines = ["# crnn-kws reproduction report", ""]
    commands, wake = exp / "commands" / "eval.json", exp / "wake-word" / "eval.json"
    if commands.is_file():
        r = json.loads(commands.read_text())
        lines += ["## Speech Commands v2, 12 classes (official SHA-1 split)", "",
                  f"Test accuracy **{100 * r['accuracy']:.2f} %** on {r['n']} clips (the paper reports none; "
                  "spec §6: TF baseline conv 88.2 %, small CRNNs ~94 %).", "",
                  "| class | accuracy (%) |", "|---|---|",
                  *[f"| {k} | {100 * v:.1f} |" for k, v in r["per_class"].items()], ""]
    else:
        lines += ["Speech Commands: not run (no commands/eval.json).", ""]
    if wake.is_file():
        rows = json.loads(wake.read_text())
        lines += ["## Wake word: your positives, LibriSpeech negatives, your noise", "",
                  "| SNR (dB) | paper accuracy at 0.5 FA/h (%) | ours (%) | negatives (h) | positives |",
                  "|---|---|---|---|---|"]
        for r in rows:
            ours = "no threshold meets the target" if r["accuracy"] is None else f"{100 * r['accuracy']:.2f}"
            lines.append(f"| {r['snr_db']:g} | {PAPER_ACCURACY.get(float(r['snr_db']), '-')} | {ours} | "
                         f"{r['negative_hours']:.2f} | {r['positives']} |")
        lines.append("")
    else:
        lines += ["Wake word: not run (no wake-word/eval.json; pass POSITIVES=... NOISE=...).", ""]
    env = envinfo.describe("cpu")
    lines += [f"Environment: {', '.join(f'{k} {v}' for k, v in env.items())}.", ""]
    text = "\n".join(lines)
    atomic_write_text(exp / "report.md", text)
    return text


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python -m crnn_kws.recipe", description=__doc__.split("\n\n")[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = p.add_subparsers(dest="stage", required=True)
    c = sub.add_parser("commands-check", help="split sizes of a Speech Commands v2 folder")
    c.add_argument("--root", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    w = sub.add_parser("wake-word-corpus", help="link your positives, LibriSpeech and noise into a corpus")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--positives", type=Path, required=True)
    w.add_argument("--librispeech", type=Path, required=True)
    w.add_argument("--noise", type=Path, required=True)
    w.add_argument("--confusables", type=Path, default=None)
    r = sub.add_parser("report", help="EXP/report.md from the evaluations present")
    r.add_argument("--exp", type=Path, required=True)
    args = p.parse_args(argv)
    if args.stage == "commands-check":
        print(json.dumps(commands_check(args.root, args.out)))
    elif args.stage == "wake-word-corpus":
        from crnn_kws.user_corpus import link_corpus

        print(link_corpus(args.out, args.positives, args.librispeech, args.noise, args.confusables))
    else:
        print(report(args.exp))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_guarded(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
