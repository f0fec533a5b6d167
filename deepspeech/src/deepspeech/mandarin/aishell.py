"""AISHELL-1 (OpenSLR 33; Bu et al. 2017, arXiv 1709.05522): download, unpack, manifests.

The release, as ``data_aishell.tgz`` (15 GB, md5 published by OpenSLR and used by PaddleSpeech's
``dataset/aishell/aishell.py``), holds::

    data_aishell/transcript/aishell_transcript_v0.8.txt    "BAC009S0002W0122 而 对 楼市 成交 抑制 作用 最 大 的 限 购"
    data_aishell/wav/S0002.tar.gz ... S0916.tar.gz          one per speaker, members train|dev|test/SPEAKER/UTT.wav

After unpacking the speaker archives, ``wav/{train,dev,test}/SPEAKER/UTT.wav`` (16 kHz mono): the official split
is the folder each speaker archive puts its speaker in (340 / 40 / 20 speakers). The transcript file covers all
splits and is joined to the audio by utterance id (the wav file's stem); audio without a transcript line is
skipped and counted (the release has some), transcript lines without audio are ignored.

Every step is restartable: the download resumes (``ninerepro.data.datasets.download``), the outer archive is
extracted atomically, each speaker archive is unpacked into a temporary folder, its speaker folder renamed into
place, and only then is the speaker archive deleted; manifests are written atomically.

``python -m deepspeech.mandarin.aishell --root data`` (``make data-aishell``) writes
``<root>/manifests/aishell_{train,dev,test}.jsonl`` (``audio_filepath``, ``duration``, ``text`` normalised by
``normalize_cmn``, ``words`` the release's segmented transcript, ``speaker``, ``id``) and the character
vocabulary of the training transcripts, ``<root>/manifests/aishell_vocab.txt``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from deepspeech.mandarin.text import build_vocab, normalize_cmn, save_vocab
from ninerepro.cli_errors import user_errors
from ninerepro.data.datasets.download import download
from ninerepro.data.datasets.extract import extract
from ninerepro.data.filelists import DataFormatError, numbered_lines
from ninerepro.data.manifests import write_manifest

log = logging.getLogger(__name__)

URL = "https://www.openslr.org/resources/33/data_aishell.tgz"
MD5 = "2f494334227864a8a8fec932999db9d8"
SPLITS = ("train", "dev", "test")
SAMPLE_RATE = 16000
TRANSCRIPT = Path("transcript") / "aishell_transcript_v0.8.txt"
_SPEAKER = re.compile(r"^S\d{4}$")


def fetch_aishell(root: Path, url: str = URL, md5: str | None = MD5, keep_archive: bool = False) -> Path:
    """``<root>/data_aishell`` with every speaker archive unpacked; downloads what is missing."""
    corpus = root / "data_aishell"
    if not corpus.is_dir():
        archive = download(url, root / "downloads" / url.rsplit("/", 1)[-1], md5=md5)
        extract(archive, corpus, member="data_aishell")
        if not keep_archive:
            archive.unlink()
    unpack_speakers(corpus)
    return corpus


def unpack_speakers(corpus: Path) -> int:
    """Unpack each ``wav/SPEAKER.tar.gz`` into ``wav/<split>/SPEAKER/``; returns how many were unpacked now."""
    wav = corpus / "wav"
    if not wav.is_dir():
        raise FileNotFoundError(f"{wav} does not exist: {corpus} is not an extracted data_aishell folder; run "
                                "`make data-aishell` or pass --source DATA_AISHELL")
    archives = sorted(wav.glob("S*.tar.gz"))
    for tar in tqdm(archives, desc="unpack speakers", unit="speaker"):
        speaker = tar.name.removesuffix(".tar.gz")
        tmp = wav / f".unpack-{speaker}"
        if tmp.exists():  # left by an interrupted run: start this speaker again
            shutil.rmtree(tmp)
        extract(tar, tmp)
        found = [d for split in SPLITS for d in (tmp / split).glob("*") if d.is_dir()]
        if [d.name for d in found] != [speaker]:
            shutil.rmtree(tmp)
            raise DataFormatError(f"{tar}: expected one folder train|dev|test/{speaker}/ inside, found "
                                  f"{[str(d.relative_to(tmp)) for d in found]}; is this the AISHELL-1 release?")
        dest = wav / found[0].parent.name / speaker
        if dest.exists():  # renamed by an interrupted run that had not yet deleted the archive
            shutil.rmtree(dest)
        dest.parent.mkdir(exist_ok=True)
        os.replace(found[0], dest)
        shutil.rmtree(tmp)
        tar.unlink()
    return len(archives)


def read_transcripts(path: Path) -> dict[str, str]:
    """{utterance id: segmented transcript} of ``aishell_transcript_v0.8.txt``; malformed lines are errors."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no AISHELL-1 transcript file; the release has "
                                "data_aishell/transcript/aishell_transcript_v0.8.txt")
    out: dict[str, str] = {}
    for number, line in numbered_lines(path):
        utt, _, words = line.strip().partition(" ")
        where = f"{path}:{number}"
        if not words.strip():
            raise DataFormatError(f"{where}: line {line.strip()!r} has no transcript after the utterance id")
        if utt in out:
            raise DataFormatError(f"{where}: utterance id {utt} appears twice")
        out[utt] = " ".join(words.split())
    return out


def read_split(corpus: Path, split: str, transcripts: dict[str, str]) -> tuple[list[dict], int]:
    """Manifest records of one split, sorted by id, and how many wavs had no transcript."""
    folder = corpus / "wav" / split
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist; unpack the speaker archives first "
                                "(`python -m deepspeech.mandarin.aishell --source DATA_AISHELL` does it)")
    records, untranscribed = [], 0
    for wav in tqdm(sorted(folder.glob("*/*.wav")), desc=f"aishell {split}", unit="utt"):
        if not _SPEAKER.match(wav.parent.name):
            raise DataFormatError(f"{wav}: speaker folder {wav.parent.name!r} is not S + 4 digits")
        words = transcripts.get(wav.stem)
        if words is None:
            untranscribed += 1
            continue
        info = sf.info(str(wav))
        if info.samplerate != SAMPLE_RATE or info.channels != 1:
            raise DataFormatError(f"{wav}: {info.samplerate} Hz, {info.channels} channel(s); AISHELL-1 is 16 kHz "
                                  "mono: re-extract the release, or resample this file to 16 kHz mono")
        text = normalize_cmn(words)
        if not text:
            raise DataFormatError(f"{wav}: its transcript {words!r} is empty after normalisation")
        records.append({"audio_filepath": str(wav.resolve()), "duration": round(info.frames / info.samplerate, 4),
                        "text": text, "words": words, "speaker": wav.parent.name, "id": wav.stem})
    return records, untranscribed


def prepare_aishell(corpus: Path, out_dir: Path) -> list[Path]:
    """Manifests of the official train/dev/test split and the training vocabulary; returns their paths."""
    transcripts = read_transcripts(corpus / TRANSCRIPT)
    written, speakers = [], {}
    for split in SPLITS:
        records, untranscribed = read_split(corpus, split, transcripts)
        if not records:
            raise DataFormatError(f"{corpus / 'wav' / split}: no transcribed utterance")
        for r in records:
            other = speakers.setdefault(r["speaker"], split)
            if other != split:
                raise DataFormatError(f"speaker {r['speaker']} is in both {other} and {split}; the official split "
                                      "keeps speakers apart: re-extract the release")
        if untranscribed:
            log.warning("aishell %s: %d wav file(s) have no transcript line and were skipped", split, untranscribed)
        log.info("aishell %s: %d utterances, %d speakers, %.1f h", split, len(records),
                 len({r["speaker"] for r in records}), sum(r["duration"] for r in records) / 3600)
        written.append(write_manifest(out_dir / f"aishell_{split}.jsonl", records))
        if split == "train":
            vocab = build_vocab(r["text"] for r in records)
    written.append(save_vocab(vocab, out_dir / "aishell_vocab.txt"))
    return written


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m deepspeech.mandarin.aishell", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=Path("data"), help="downloads, data_aishell/ and manifests/ go here")
    p.add_argument("--source", type=Path, help="an extracted data_aishell folder; skips the download")
    p.add_argument("--url", default=URL, help="download this URL instead (a mirror, e.g. us.openslr.org)")
    p.add_argument("--md5", default=MD5, help="expected md5 of the archive (default: the official one)")
    p.add_argument("--keep-archive", action="store_true", help="keep data_aishell.tgz after extraction")
    p.add_argument("--debug", action="store_true", help="tracebacks instead of one-line errors")
    args = p.parse_args(argv)
    with user_errors(p.prog, args.debug, errors=(OSError, ValueError, DataFormatError)):
        if args.source is not None:
            corpus = args.source
            unpack_speakers(corpus)
        else:
            corpus = fetch_aishell(args.root, args.url, args.md5 or None, args.keep_archive)
        for path in prepare_aishell(corpus, args.root / "manifests"):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
