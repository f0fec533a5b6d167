"""Where the real datasets come from: official archive URLs, checksums and archive layouts.

SHA-256 digests are those published with torchaudio's dataset classes (pytorch/audio,
``src/torchaudio/datasets/{ljspeech,libritts,librispeech,speechcommands}.py``), which were computed on the
official archives. The Speech Commands *test-set* archives have no checksum we could confirm; they are
downloaded unverified (with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Archive:
    """One downloadable archive and where its content goes.

    Attributes:
        url: official download URL.
        sha256: expected digest, or None where unknown.
        member: folder inside the archive to install (None = the archive's whole content).
        target: path, relative to ``--root``, the member is installed at.
    """

    url: str
    sha256: str | None
    member: str | None
    target: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


_LJSPEECH = "https://data.keithito.com/data/speech/"
_LIBRITTS = "https://www.openslr.org/resources/60/"
_LIBRISPEECH = "https://www.openslr.org/resources/12/"
_SPEECH_COMMANDS = "https://storage.googleapis.com/download.tensorflow.org/data/"

LIBRITTS_SHA256 = {
    "dev-clean": "da0864e1bd26debed35da8a869dd5c04dfc27682921936de7cff9c8a254dbe1a",
    "dev-other": "d413eda26f3a152ac7c9cf3658ef85504dfb1b625296e5fa83727f5186cca79c",
    "test-clean": "234ea5b25859102a87024a4b9b86641f5b5aaaf1197335c95090cde04fe9a4f5",
    "test-other": "33a5342094f3bba7ccc2e0500b9e72d558f72eb99328ac8debe1d9080402f10d",
    "train-clean-100": "c5608bf1ef74bb621935382b8399c5cdd51cd3ee47cec51f00f885a64c6c7f6b",
    "train-clean-360": "ce7cff44dcac46009d18379f37ef36551123a1dc4e5c8e4eb73ae57260de4886",
    "train-other-500": "e35f7e34deeb2e2bdfe4403d88c8fdd5fbf64865cae41f027a185a6965f0a5df",
}
LIBRISPEECH_SHA256 = {
    "dev-clean": "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    "dev-other": "12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365",
    "test-clean": "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
    "test-other": "d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29",
    "train-clean-100": "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
    "train-clean-360": "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
    "train-other-500": "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
}
SPEECH_COMMANDS_SHA256 = {
    "v0.01": "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    "v0.02": "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
}

# Default subsets: what the recipes here train and evaluate on.
DEFAULT_SUBSETS = {
    "ljspeech": ("LJSpeech-1.1",),
    "libritts": ("train-clean-100",),
    "librispeech": ("train-clean-100", "dev-clean", "test-clean"),
    "speech-commands": ("v0.02",),
}


def archives(dataset: str, subsets: tuple[str, ...]) -> list[Archive]:
    """The archives to fetch for ``dataset`` and ``subsets``; unknown names raise with the valid ones."""
    valid = {
        "ljspeech": ("LJSpeech-1.1",),
        "libritts": tuple(LIBRITTS_SHA256),
        "librispeech": tuple(LIBRISPEECH_SHA256),
        "speech-commands": tuple(SPEECH_COMMANDS_SHA256),
    }
    if dataset not in valid:
        raise ValueError(f"unknown dataset {dataset!r}; use one of {sorted(valid)}")
    unknown = [s for s in subsets if s not in valid[dataset]]
    if unknown:
        raise ValueError(f"{dataset}: unknown subset(s) {unknown}; valid: {list(valid[dataset])}")
    if dataset == "ljspeech":
        sha = "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5"
        return [Archive(_LJSPEECH + "LJSpeech-1.1.tar.bz2", sha, "LJSpeech-1.1", "LJSpeech-1.1")]
    if dataset == "libritts":
        return [Archive(f"{_LIBRITTS}{s}.tar.gz", LIBRITTS_SHA256[s], f"LibriTTS/{s}", f"LibriTTS/{s}")
                for s in subsets]
    if dataset == "librispeech":
        return [Archive(f"{_LIBRISPEECH}{s}.tar.gz", LIBRISPEECH_SHA256[s], f"LibriSpeech/{s}", f"LibriSpeech/{s}")
                for s in subsets]
    return [Archive(f"{_SPEECH_COMMANDS}speech_commands_{v}.tar.gz", SPEECH_COMMANDS_SHA256[v], None,
                    f"speech_commands_{v}") for v in subsets]
