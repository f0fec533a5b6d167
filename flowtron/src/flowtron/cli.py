"""``flowtron-synthesize``: text -> mel -> wav with Flowtron's controls.

    flowtron-synthesize -c flowtron_ljs.pt --text "Hello there." -o hello.wav [--sigma 0.5] [--speaker 0]
        [--gate 0.5] [--n-frames N] [--temperature 1.0] [--waveglow waveglow_256channels.pt]
        [--style-ref a.wav --style-text "its words" ...] [--blend-speaker B --blend-weight 0.5] [--component K]

Any checkpoint ``flowtron.load_checkpoint`` reads works (``--config`` for official files trained at other sizes).
``--speaker`` is the model row; with one of our checkpoints ``--speaker-id`` takes the raw filelist id through
the saved table. ``--n-frames`` caps the output (default ``flowtron.data.frame_cap``: 8 frames per symbol at
hop 256, the maintainers' rule of thumb, converted to the checkpoint's hop; too few truncate the sentence);
generation stops earlier when the gate fires (``--gate 1`` never stops). Style
transfer replaces z ~ N(0, sigma^2) by the posterior of the reference clips (``flowtron.control``). Without
``--waveglow`` the mel is vocoded by Griffin-Lim. The wav is peak-normalised (the official inference) and
written atomically; an existing output is refused unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from flowtron.checkpoint import model_from_checkpoint, read_checkpoint_file
from flowtron.config import DataConfig
from flowtron.control import component_z, posterior_z, sample_z, speaker_blend
from flowtron.data import TextToIds, frame_cap, load_mel, to_vocoder_frames
from flowtron.errors import user_errors
from flowtron.model import FlowtronInputError
from ninerepro.audio.io import save_wav
from ninerepro.train.checkpoint import FORMAT
from ninerepro.tts.vocoder import make_vocoder
from ninerepro.viz import plot_alignment


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flowtron-synthesize", description="Synthesise speech with Flowtron.")
    p.add_argument("-c", "--checkpoint", type=Path, required=True)
    p.add_argument("--config", default=None, help="official config.json or model_config JSON for official files")
    p.add_argument("--text", required=True)
    p.add_argument("-o", "--output", type=Path, required=True, help="output .wav")
    p.add_argument("--speaker", type=int, default=0, help="model speaker row")
    p.add_argument("--speaker-id", default=None, help="raw filelist speaker id (our checkpoints keep the table)")
    p.add_argument("--sigma", type=float, default=0.5, help="standard deviation of z (official default 0.5)")
    p.add_argument("--gate", type=float, default=0.5, help="gate threshold; >= 1 never stops early")
    p.add_argument("--n-frames", type=int, default=None,
                   help="frame cap (default 8 per symbol at hop 256, scaled to the model's hop)")
    p.add_argument("--temperature", type=float, default=1.0, help="attention softmax temperature")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--style-ref", type=Path, action="append", default=[], help="reference wav (repeatable)")
    p.add_argument("--style-text", action="append", default=[], help="transcript of each --style-ref")
    p.add_argument("--style-speaker", type=int, default=None, help="speaker row forced for the references")
    p.add_argument("--blend-speaker", type=int, default=None, help="interpolate the speaker embedding towards B")
    p.add_argument("--blend-weight", type=float, default=0.5)
    p.add_argument("--component", type=int, default=None, help="Gaussian-mixture component to sample around")
    p.add_argument("--waveglow", type=Path, default=None, help="WaveGlow checkpoint (default: Griffin-Lim)")
    p.add_argument("--waveglow-sigma", type=float, default=0.8)
    p.add_argument("--denoiser-strength", type=float, default=0.01)
    p.add_argument("--save-mel", type=Path, default=None, help="also write the mel [80, T] as a .pt file")
    p.add_argument("--attention-png", type=Path, default=None, help="also plot each flow's attention")
    p.add_argument("--device", default="cpu")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    return p


def _speaker_row(args: argparse.Namespace, data: dict) -> int:
    """The model row for ``--speaker-id`` from the table in ``data`` (the read checkpoint), else ``--speaker``."""
    if args.speaker_id is None:
        return args.speaker
    table = (data.get("config") or {}).get("speakers") if data.get("format") == FORMAT else None
    if not table:
        raise FlowtronInputError(f"{args.checkpoint} carries no speaker table; pass the model row with --speaker")
    if args.speaker_id not in table:
        raise FlowtronInputError(f"speaker id {args.speaker_id!r} is not in {args.checkpoint}'s table "
                                 f"(ids: {', '.join(sorted(table)[:10])}{' ...' if len(table) > 10 else ''})")
    return int(table[args.speaker_id])


def _hop_length(data: dict) -> int:
    """The mel hop the read checkpoint ``data`` was trained at (ours save it; official files are all 256), so
    references are read and the output vocoded at the model's frame rate."""
    if data.get("format") != FORMAT:
        return DataConfig().hop_length
    return int(((data.get("config") or {}).get("data") or {}).get("hop_length", DataConfig().hop_length))


def synthesize(args: argparse.Namespace) -> Path:
    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} exists; pass --overwrite or choose another -o")
    if args.output.suffix.lower() != ".wav":
        raise ValueError(f"-o {args.output}: the output must be a .wav file")
    if args.style_ref and len(args.style_text) != len(args.style_ref):
        raise ValueError(f"{len(args.style_ref)} --style-ref but {len(args.style_text)} --style-text: give each "
                         "reference clip its transcript")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is visible; use --device cpu")
    if not args.text.strip():
        raise FlowtronInputError("--text is empty: give the sentence to speak")
    checkpoint = read_checkpoint_file(args.checkpoint)
    model = model_from_checkpoint(checkpoint, str(args.checkpoint), args.config, args.device)
    speaker = _speaker_row(args, checkpoint)
    data_cfg = DataConfig(hop_length=_hop_length(checkpoint))
    to_ids = TextToIds(data_cfg.text_cleaners, p_arpabet=0.0, strict=True)
    text = torch.tensor(to_ids(args.text), dtype=torch.long)
    n_frames = args.n_frames or frame_cap(len(text), data_cfg.hop_length)
    generator = torch.Generator().manual_seed(args.seed)
    if args.style_ref:
        refs = [(load_mel(path, data_cfg), torch.tensor(to_ids(words), dtype=torch.long))
                for path, words in zip(args.style_ref, args.style_text)]
        ref_speaker = speaker if args.style_speaker is None else args.style_speaker
        z = posterior_z(model, refs, ref_speaker, n_frames, args.sigma, generator=generator)
    elif args.component is not None:
        z = component_z(model, args.component, n_frames, args.sigma, generator)
    else:
        z = sample_z(n_frames, args.sigma, model.cfg.n_mel_channels, generator)
    if args.blend_speaker is not None:
        model = speaker_blend(model, speaker, args.blend_speaker, args.blend_weight)
    mel, attention = model.infer(z.to(args.device), torch.tensor([speaker], device=args.device),
                                 text[None].to(args.device), args.temperature, args.gate)
    vocoder = make_vocoder(args.waveglow, args.device, args.waveglow_sigma, args.denoiser_strength)
    wav = np.asarray(vocoder(to_vocoder_frames(mel.float(), data_cfg)), dtype=np.float32)
    wav = wav / max(float(np.abs(wav).max()), 1e-8)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_wav(args.output, wav, data_cfg.sampling_rate)
    if args.save_mel:
        torch.save(mel[0].cpu(), args.save_mel)
    if args.attention_png:
        for k, a in enumerate(attention):
            plot_alignment(a[0].cpu(), args.attention_png.with_name(f"{args.attention_png.stem}_flow{k}.png"))
    stopped = "gate" if mel.shape[2] < n_frames else "frame cap"
    seconds = mel.shape[2] * data_cfg.hop_length / data_cfg.sampling_rate
    print(f"{args.output}: {mel.shape[2]} frames ({seconds:.2f} s, stopped by the {stopped})")
    return args.output


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with user_errors("flowtron-synthesize", args.debug):
        synthesize(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
