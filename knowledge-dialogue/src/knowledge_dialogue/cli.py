"""``knowledge-dialogue run | score | chat | serve``: both MSDP stages on a test set, scoring, live dialogue.

User mistakes (a WoW file of the wrong shape, an empty dialogue, a server that is down or times out, a guess
file of another length than its references, an output folder from other settings) print one ``error:`` line
naming the file and the fix and exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from ninerepro.lm.cli import add_backend_args, add_common, run_command


def _settings(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", default=None, help="configs/*.json (default: the official values)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. demos1.retriever=bm25")


def add_run(sub) -> None:
    p = sub.add_parser("run", help="knowledge then response generation on a test set; stage JSONL, scores")
    p.add_argument("--data", default="demo", help="wow | woi | demo (this project's small set)")
    p.add_argument("--split", default="test_seen", help="wow/demo: test_seen | test_unseen; woi: test")
    p.add_argument("--data-dir", default="data", help="where `make data-wow` / `data-woi` put the TSV files")
    p.add_argument("--test", default=None, help="test file instead of --data (.tsv, WoW .json or WoI .jsonl)")
    p.add_argument("--train", default=None, help="demonstration database (WoW train) with --test")
    p.add_argument("--seen", action=argparse.BooleanOptionalAction, default=None,
                   help="treat the test set as WoW seen (database filters); default: split == test_seen")
    p.add_argument("--limit", type=int, default=None, help="first N test items only")
    add_backend_args(p)
    p.add_argument("--out", required=True, help="run folder for the stage JSONL files and the scores")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (finished items are kept)")
    p.add_argument("--fresh", action="store_true", help="delete the stage outputs in --out and start over")
    _settings(p)
    add_common(p)
    p.set_defaults(func=run)


def add_score(sub) -> None:
    p = sub.add_parser("score", help="F1 of a guess file against a reference file (official evaluator), or "
                                     "rescore a run folder")
    p.add_argument("--guess", default=None)
    p.add_argument("--answer", default=None, help="reference file (no_passages_used lines are skipped)")
    p.add_argument("--run", default=None, help="a `knowledge-dialogue run` folder instead")
    add_common(p)
    p.set_defaults(func=score)


def _live(p: argparse.ArgumentParser) -> None:
    p.add_argument("--train", default=None, help="demonstration database (default: the demo set's train.json)")
    add_backend_args(p)
    _settings(p)
    add_common(p)


def add_chat(sub) -> None:
    p = sub.add_parser("chat", help="talk to the model; each reply is shown with the knowledge it generated")
    p.add_argument("--topic", required=True)
    _live(p)
    p.set_defaults(func=chat)


def add_serve(sub) -> None:
    p = sub.add_parser("serve", help="HTTP: POST /reply {topic, turns} -> {knowledge, response}")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    _live(p)
    p.set_defaults(func=serve)


def load_run_config(args: argparse.Namespace):
    from knowledge_dialogue.config import RunConfig
    from ninerepro.train.config import load_config

    return load_config(RunConfig, args.config, list(args.overrides))


def run(args: argparse.Namespace) -> int:
    from knowledge_dialogue.runner import execute

    return execute(args, load_run_config(args))


def score(args: argparse.Namespace) -> int:
    if args.run:
        from knowledge_dialogue.runner import rescore

        return rescore(Path(args.run))
    if not (args.guess and args.answer):
        raise ValueError("score needs --guess FILE --answer FILE, or --run FOLDER")
    from knowledge_dialogue.metrics import score_files

    p, r, f = score_files(args.guess, args.answer)
    print(f"precision {100 * p:.2f}  recall {100 * r:.2f}  F1 {100 * f:.2f}")
    return 0


def make_replier(args: argparse.Namespace):
    from knowledge_dialogue.data import read_samples
    from knowledge_dialogue.runner import EMBEDDED
    from knowledge_dialogue.server import Replier
    from ninerepro.lm import runs

    cfg = load_run_config(args)
    train = read_samples(args.train or EMBEDDED / "train.json")
    backend, model_id = runs.make_backend(args, cfg.batch_size)
    return Replier(backend, model_id, cfg, train, device="cpu" if args.device == "auto" else args.device)


def chat(args: argparse.Namespace, stdin=None, stdout=None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    replier = make_replier(args)
    if not replier.selector.knows(args.topic):
        print(f"(topic {args.topic!r} is not in the database: demonstrations come from other topics)", file=stdout)
    turns: list[str] = []
    print("type a turn, an empty line ends the chat", file=stdout)
    for line in stdin:
        line = line.strip()
        if not line:
            break
        turns.append(line)
        out = replier.reply(args.topic, turns)
        print(f"  [knowledge] {out['knowledge']}\n  {out['response']}", file=stdout, flush=True)
        turns.append(out["response"])
    return 0


def serve(args: argparse.Namespace) -> int:
    from knowledge_dialogue.server import make_server

    server = make_server(make_replier(args), args.host, args.port)
    print(f"listening on http://{args.host}:{server.server_address[1]}/reply", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="knowledge-dialogue", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_run, add_score, add_chat, add_serve):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
