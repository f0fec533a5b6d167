"""ONNX export of the DS2 acoustic model (features -> CTC log-probabilities), checked with onnxruntime.

The graph takes ``features`` [B, F, T] (the normalised log spectrogram of deepspeech.features, zero-padded) and
``lengths`` [B] (int64 frames), and returns ``log_probs`` [B, T', C] and ``out_lengths`` [B], the same contract as
``DeepSpeech2.forward``. Batch and time are dynamic axes. Padded batches stay exact: the packed recurrences are
exported as ONNX LSTM/GRU/RNN nodes with ``sequence_lens``, and every mask is computed from ``lengths`` in the
graph. Feature extraction and decoding stay outside (numpy / a CTC decoder), as in any deployment.

We use the TorchScript-based exporter (``dynamo=False``, as waveglow does): the dynamo exporter needs the
extra ``onnxscript`` package. DS1 is not exported: its clipped-ReLU recurrence is a Python loop over frames,
which tracing would freeze to one length. ``onnx`` and ``onnxruntime`` are an optional extra
(``pip install -e './deepspeech[onnx]'`` from the repository root).
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import numpy as np
import torch

from deepspeech.model import DeepSpeech2
from ninerepro.atomic import atomic_save
from ninerepro.cli_errors import user_errors

INPUTS = ("features", "lengths")
OUTPUTS = ("log_probs", "out_lengths")
DEFAULT_OPSET = 17


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise ValueError(f"{module} is not installed; pip install -e './deepspeech[onnx]' "
                         f"(onnx and onnxruntime) to export and check ONNX models") from None


def export_onnx(model: torch.nn.Module, path: str | os.PathLike, n_bins: int, opset: int = DEFAULT_OPSET,
                example_frames: int = 120) -> Path:
    """Write ``model`` (a DeepSpeech2, put in eval mode) as ONNX with dynamic batch/time axes; atomic write."""
    if not isinstance(model, DeepSpeech2):
        raise ValueError(f"only DS2 models export to ONNX (got {type(model).__name__}; DS1's recurrence is a "
                         f"Python loop over frames)")
    _require("onnx")
    model = model.eval()
    device = next(model.parameters()).device
    # two utterances of different lengths, so the traced graph is the padded-batch one (masks, sequence_lens)
    x, lengths = random_padded_batch(n_bins, [example_frames, example_frames * 2 // 3])
    x, lengths = x.to(device), lengths.to(device)
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model, (x, lengths), buffer, input_names=list(INPUTS), output_names=list(OUTPUTS),
            dynamic_axes={"features": {0: "batch", 2: "frames"}, "lengths": {0: "batch"},
                          "log_probs": {0: "batch", 1: "out_frames"}, "out_lengths": {0: "batch"}},
            opset_version=opset, dynamo=False)
    return atomic_save(Path(path), lambda f: f.write(buffer.getvalue()))


def onnx_session(path: str | os.PathLike):
    """An onnxruntime CPU session for an exported model."""
    ort = _require("onnxruntime")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist; make it with deepspeech-export-onnx")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_log_probs(session, features: torch.Tensor, lengths: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(log_probs [B, T', C], out_lengths [B]) from onnxruntime for a padded batch."""
    log_probs, out_lengths = session.run(list(OUTPUTS), {"features": features.cpu().numpy().astype(np.float32),
                                                         "lengths": lengths.cpu().numpy().astype(np.int64)})
    return log_probs, out_lengths


def max_abs_diff(model: torch.nn.Module, session, features: torch.Tensor, lengths: torch.Tensor) -> float:
    """Largest |PyTorch - onnxruntime| log-probability over the valid frames of a padded batch."""
    with torch.no_grad():
        ours, ours_lengths = model.eval()(features, lengths)
    theirs, their_lengths = onnx_log_probs(session, features, lengths)
    if ours_lengths.tolist() != their_lengths.tolist():
        raise AssertionError(f"output lengths differ: torch {ours_lengths.tolist()} vs onnx {their_lengths.tolist()}")
    return max(float(np.abs(ours[i, :n].cpu().numpy() - theirs[i, :n]).max())
               for i, n in enumerate(ours_lengths.tolist()))


def random_padded_batch(n_bins: int, frames: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded N(0, 1) features [B, F, max(frames)] (normalised spectrogram statistics) and their lengths."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(len(frames), n_bins, max(frames))
    for i, n in enumerate(frames):
        x[i, :, :n] = torch.randn(n_bins, n, generator=g)
    return x, torch.tensor(frames)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="deepspeech-export-onnx", description=(
        "Export a DS2 checkpoint's acoustic model to ONNX (dynamic batch and time) and check it with "
        "onnxruntime against PyTorch on a padded batch whose lengths differ from the export example."))
    p.add_argument("--checkpoint", required=True,
                   help="deepspeech-train checkpoint or run folder, or a deepspeech.pytorch .ckpt")
    p.add_argument("--output", required=True, help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    p.add_argument("--tolerance", type=float, default=1e-4, help="max |torch - onnxruntime| log-prob allowed")
    p.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    args = p.parse_args(argv)
    with user_errors("deepspeech-export-onnx", args.debug):
        from deepspeech.infer import Transcriber

        t = Transcriber.from_checkpoint(args.checkpoint, "cpu")
        n_bins = t.cfg.features.n_bins
        start = time.perf_counter()
        path = export_onnx(t.model, args.output, n_bins, args.opset)
        print(f"{args.checkpoint} -> {path} ({path.stat().st_size / 1e6:.1f} MB, opset {args.opset}, "
              f"{t.cfg.features.sample_rate} Hz, {n_bins} bins, {len(t.vocab)} classes) in "
              f"{time.perf_counter() - start:.1f} s")
        if not args.no_check:
            features, lengths = random_padded_batch(n_bins, [301, 173, 57])
            diff = max_abs_diff(t.model, onnx_session(path), features, lengths)
            print(f"onnxruntime check on a padded batch of 301/173/57 frames: max |torch - onnx| = {diff:.2e}")
            if diff > args.tolerance:
                raise ValueError(f"{path}: onnxruntime differs from PyTorch by {diff:.2e} > --tolerance "
                                 f"{args.tolerance:g}; try another --opset")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
