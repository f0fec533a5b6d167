"""The embedded Mandarin corpus: sentences written for this project, spoken by eSpeak NG's Mandarin voice.

Sentences are built from short word lists by five templates (time, subject, place, action; subject, wish,
action; topic, degree, adjective; ...). Each template slot is a *word*, so every sentence comes with its word
segmentation, written space-separated exactly as AISHELL-1's transcript file does. About one sentence in ten is
held out by a stable hash of its text: training utterances draw from the rest, dev/test from the held-out ones,
so no test sentence was ever heard or seen by the acoustic model or the LM.

Homophones are deliberate: 作业/做饭 (zuò), 在 (zài) vs 再 would be; eSpeak reads characters as toned pinyin, so
the acoustic model can only tell 作 from 做 by context, which is what the character LM is for.

Speakers: eSpeak's ``cmn`` voice with a voice variant (m1..m7, f1..f5, ...), a base pitch and a speaking rate,
fixed per speaker; training speakers and held-out (dev/test) speakers use disjoint variants, so test voices are
unheard. The corpus is written in the extracted AISHELL-1 layout (``wav/{train,dev,test}/SPEAKER/UTT.wav``,
``transcript/aishell_transcript_v0.8.txt``), so the demo prepares it with the real recipe's code.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepspeech.mandarin.aishell import TRANSCRIPT
from ninerepro.atomic import atomic_write_text
from ninerepro.audio.io import save_wav
from ninerepro.data.synth.espeak import Voice
from ninerepro.data.synth.render import render

TIMES = ("今天", "明天", "昨天", "早上", "晚上", "上午", "下午", "周末", "现在", "每天", "去年", "明年")
SUBJECTS = ("我", "你", "他", "我们", "你们", "他们", "老师", "学生", "妈妈", "爸爸", "哥哥", "姐姐", "弟弟",
            "妹妹", "朋友", "医生", "同学", "爷爷", "奶奶", "司机")
PLACES = ("学校", "家里", "公司", "医院", "商店", "公园", "饭馆", "图书馆", "北京", "上海", "车站", "银行")
ACTIONS = (("看", "电影"), ("买", "水果"), ("喝", "茶"), ("吃", "米饭"), ("写", "作业"), ("读", "书"),
           ("打", "电话"), ("学", "中文"), ("开", "车"), ("做", "饭"), ("唱", "歌"), ("听", "音乐"),
           ("坐", "火车"), ("踢", "足球"), ("洗", "衣服"), ("看", "报纸"), ("买", "衣服"), ("跑步",),
           ("休息",), ("工作",), ("睡觉",), ("喝", "咖啡"), ("吃", "面条"), ("打", "篮球"), ("写", "信"),
           ("等", "公共汽车"))
WISHES = ("想", "要", "喜欢", "不想", "应该", "可以", "常常")
TOPICS = ("天气", "这个 苹果", "那 本 书", "我 的 房间", "这 条 路", "他 的 汉语", "学校 的 饭菜",
          "北京 的 冬天", "上海 的 夏天", "这 家 饭馆", "今天 的 作业", "我们 的 老师")
DEGREES = ("很", "非常", "不", "特别", "有点", "太")
ADJECTIVES = ("好", "冷", "热", "甜", "大", "小", "干净", "漂亮", "便宜", "贵", "远", "近", "有意思", "难",
              "容易", "忙")


def _templates() -> Iterator[tuple[str, ...]]:
    """Every sentence of the five templates as a tuple of words."""
    for t, s, p, a in itertools.product(TIMES, SUBJECTS, PLACES, ACTIONS):
        yield (t, s, "在", p, *a)
    for s, w, a in itertools.product(SUBJECTS, WISHES, ACTIONS):
        yield (s, w, *a)
    for topic, d, adj in itertools.product(TOPICS, DEGREES, ADJECTIVES):
        yield (*topic.split(), d, adj)
    for s, t, p, a in itertools.product(SUBJECTS, TIMES, PLACES, ACTIONS):
        yield (s, t, "去", p, *a)
    for s, d, adj in itertools.product(SUBJECTS, DEGREES, ("忙", "累", "高兴", "开心", "饿")):
        yield (s, "今天", d, adj)


def is_heldout(words: tuple[str, ...]) -> bool:
    """Stable ~10 % hold-out by the sentence's text (crc32, independent of Python's hash seed)."""
    return zlib.crc32("".join(words).encode("utf-8")) % 10 == 0


def sentence_pool(split: str) -> list[tuple[str, ...]]:
    """All template sentences of ``split`` ("train" or "heldout"), in a fixed order."""
    if split not in ("train", "heldout"):
        raise ValueError(f"unknown sentence split {split!r}; use 'train' or 'heldout'")
    return [w for w in _templates() if is_heldout(w) == (split == "heldout")]


TRAIN_VARIANTS = ("m1", "m2", "m3", "m4", "f1", "f2", "f3")
HELDOUT_VARIANTS = ("m5", "m6", "m7", "f4", "f5")


@dataclass(frozen=True)
class Speaker:
    speaker_id: str
    """AISHELL-style id, S + 4 digits"""
    split: str
    voice: Voice


def make_speakers(split: str, count: int, seed: int, first: int) -> list[Speaker]:
    """``count`` speakers of ``split``: variant cycled from that split's list, pitch and rate drawn per speaker."""
    variants = TRAIN_VARIANTS if split == "train" else HELDOUT_VARIANTS
    rng = np.random.default_rng([seed, {"train": 1, "dev": 2, "test": 3}[split]])
    return [Speaker(f"S{first + i:04d}", split,
                    Voice(f"cmn+{variants[i % len(variants)]}", rate=int(rng.integers(130, 191)),
                          pitch=int(rng.integers(25, 81)), pitch_range=int(rng.integers(30, 91))))
            for i in range(count)]


@dataclass(frozen=True)
class Planned:
    utt_id: str
    speaker: Speaker
    words: tuple[str, ...]


def plan_corpus(n: int, seed: int, per_speaker: int = 10) -> list[Planned]:
    """n utterances: 80 % train (training sentences), 10 % dev and 10 % test (held-out sentences and voices)."""
    n_dev = n_test = max(1, n // 10)
    sizes = {"train": n - n_dev - n_test, "dev": n_dev, "test": n_test}
    rng = np.random.default_rng([seed, 11])
    train_pool, held_pool = sentence_pool("train"), sentence_pool("heldout")
    train = [train_pool[i] for i in rng.permutation(len(train_pool))[: sizes["train"]]]
    train_chars = {c for w in train for c in "".join(w)}
    held = [held_pool[i] for i in rng.permutation(len(held_pool))
            if set("".join(held_pool[i])) <= train_chars][: n_dev + n_test]  # no character unseen in training
    sentences = {"train": iter(train), "dev": iter(held[:n_dev]), "test": iter(held[n_dev:])}
    plan, first = [], 2
    for split in ("train", "dev", "test"):
        speakers = make_speakers(split, max(1, -(-sizes[split] // per_speaker)), seed, first)
        first += len(speakers)
        for j in range(sizes[split]):
            spk = speakers[j * len(speakers) // sizes[split]]
            plan.append(Planned(f"BAC009{spk.speaker_id}W{j:04d}", spk, next(sentences[split])))
    return plan


MARKER = ".corpus.json"


def write_corpus(out: Path, n: int, seed: int, workers: int = 2) -> Path:
    """The corpus in the extracted AISHELL-1 layout under ``out`` (made once; a marker records n and seed)."""
    marker = out / MARKER
    if marker.is_file():
        made = json.loads(marker.read_text())
        if (made.get("n"), made.get("seed")) != (n, seed):
            raise FileExistsError(f"{out} holds a corpus made with n={made.get('n')} seed={made.get('seed')}, not "
                                  f"n={n} seed={seed}; delete it (or pass another --out) to start over")
        return out
    plan = plan_corpus(n, seed)
    audio = render([("".join(p.words), p.speaker.voice) for p in plan], 16000, seed, workers, "mandarin corpus")
    for p, wav in zip(plan, audio):
        save_wav(out / "wav" / p.speaker.split / p.speaker.speaker_id / f"{p.utt_id}.wav", wav, 16000)
    lines = sorted(f"{p.utt_id} {' '.join(p.words)}\n" for p in plan)
    atomic_write_text(out / TRANSCRIPT, "".join(lines))
    voices = {p.speaker.speaker_id: [p.speaker.split, p.speaker.voice.name, p.speaker.voice.rate,
                                     p.speaker.voice.pitch] for p in plan}
    atomic_write_text(out / "speakers.json", json.dumps(voices, indent=1))
    atomic_write_text(marker, json.dumps({"n": n, "seed": seed}))
    return out
