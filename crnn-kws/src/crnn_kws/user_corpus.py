"""The real wake-word protocol's corpus: your keyword recordings + LibriSpeech negatives + your noise.

``link_corpus`` lays out the folder ``crnn_kws.data.SplitAudio`` reads (see ``crnn_kws.corpus``) from what a
user has, with symbolic links instead of copies (LibriSpeech is 6 GB of flac):

- positives: a folder of 16 kHz mono ``*.wav`` clips of the wake phrase; with ``train/`` and ``test/``
  subfolders those are the split (use it to hold out speakers), else every fifth file (sorted) is a test clip;
- LibriSpeech: the ``LibriSpeech/`` folder holding ``train-clean-100/`` and ``test-clean/`` (official layout);
- noise: a folder of ``*.wav`` recordings, split the same way as the positives (``train/``/``test/`` or
  every fifth file), so test noise is never trained on;
- confusables (optional): near-homophone recordings, split likewise.

Every input is checked before anything is written (rate, channels, emptiness), each error naming the file
and the fix; the folder appears only when complete (built beside it, then renamed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import soundfile as sf

from crnn_kws.corpus import MANIFEST, SPEECH_SUBSETS, building
from ninerepro.atomic import atomic_write_text
from ninerepro.audio import AudioFileError, SampleRateError
from ninerepro.data.datasets.librispeech import read_librispeech

TEST_EVERY = 5


def split_files(folder: Path, what: str) -> dict[str, list[Path]]:
    """{"train": [...], "test": [...]} wav files of ``folder`` (its train/ and test/ subfolders if present)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a directory; pass the folder of {what} *.wav files")
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        out = {s: sorted((folder / s).glob("*.wav")) for s in ("train", "test")}
    else:
        files = sorted(folder.glob("*.wav"))
        out = {"train": [p for i, p in enumerate(files) if i % TEST_EVERY != TEST_EVERY - 1],
               "test": [p for i, p in enumerate(files) if i % TEST_EVERY == TEST_EVERY - 1]}
    for split, files in out.items():
        if not files:
            raise FileNotFoundError(f"{folder}: no {split} {what} clips; give at least {TEST_EVERY} *.wav files "
                                    "(every fifth is held out for testing) or train/ and test/ subfolders")
    return out


def check_wav(path: Path, sr: int) -> None:
    """The header says ``sr`` Hz mono; anything else is refused with the conversion command."""
    try:
        info = sf.info(str(path))
    except RuntimeError as e:
        raise AudioFileError(f"{path}: not readable as audio ({e}); re-export it as 16-bit PCM wav") from None
    if info.samplerate != sr:
        raise SampleRateError(f"{path}: {info.samplerate} Hz, but the detector takes {sr} Hz; resample it "
                              f"(e.g. `sox {path} -r {sr} out.wav`)")
    if info.channels != 1:
        raise AudioFileError(f"{path}: {info.channels} channels, but the detector takes mono audio; downmix it "
                             f"(e.g. `sox {path} -c 1 out.wav`)")


def _link_all(files: list[Path], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(files):
        os.symlink(src.resolve(), folder / f"{i:05d}_{src.name}")


def link_corpus(root: Path, positives: Path, librispeech: Path, noise: Path, confusables: Path | None = None,
                sr: int = 16000) -> Path:
    """Build the corpus folder ``root`` from the user's folders (module docstring); refuses an existing one."""
    root, librispeech = Path(root), Path(librispeech)
    if root.exists():
        raise FileExistsError(f"{root} already exists; delete it or choose another folder")
    sets = {"positives": split_files(Path(positives), "wake-phrase"), "noise": split_files(Path(noise), "noise")}
    if confusables is not None:
        sets["confusables"] = split_files(Path(confusables), "confusable-phrase")
    for files in sets.values():
        for path in files["train"] + files["test"]:
            check_wav(path, sr)
    speech = read_librispeech(librispeech, tuple(SPEECH_SUBSETS.values()))  # names the missing subset
    if not speech:
        raise FileNotFoundError(f"{librispeech}: no utterances in {sorted(SPEECH_SUBSETS.values())}; pass the "
                                "LibriSpeech folder holding train-clean-100/ and test-clean/")
    with building(root) as tmp:
        for name, files in sets.items():
            for split, paths in files.items():
                _link_all(paths, tmp / name / split)
        (tmp / "LibriSpeech").mkdir()
        for subset in SPEECH_SUBSETS.values():
            os.symlink((librispeech / subset).resolve(), tmp / "LibriSpeech" / subset)
        atomic_write_text(tmp / MANIFEST, json.dumps({
            "source": "user", "positives": str(positives), "librispeech": str(librispeech), "noise": str(noise),
            "confusables": None if confusables is None else str(confusables),
            "counts": {name: {s: len(p) for s, p in files.items()} for name, files in sets.items()},
            "speech_utterances": len(speech)}, indent=1) + "\n")
    return root
