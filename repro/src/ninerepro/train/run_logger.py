"""What a run shows while it trains: a tqdm bar, TensorBoard scalars/audio/images, and a metrics file.

Only rank 0 writes anything; other ranks get a logger whose methods do nothing, so call sites need no
``if rank == 0``. The JSON-lines file (``metrics.jsonl``: one ``{"step", "split", "time", <metric>...}``
object per line) is what ``ninerepro.viz.plot_loss_curves`` and the report stages read, so results never
depend on parsing TensorBoard event files.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class RunLogger:
    def __init__(self, run_dir: str | Path, *, enabled: bool = True, total_steps: int | None = None,
                 initial_step: int = 0, tensorboard: bool = True, progress: bool = True) -> None:
        self.enabled = enabled
        self.run_dir = Path(run_dir)
        self.start = time.time()
        self._tb = None
        self._bar = None
        self._jsonl = None
        if not enabled:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))
            except ImportError:  # tensorboard is a dependency, but keep training if it is broken
                log.warning("tensorboard is not importable; logging to metrics.jsonl only")
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total_steps, initial=initial_step, unit="step", dynamic_ncols=True)

    def scalars(self, step: int, metrics: dict[str, float], split: str = "train") -> None:
        if not self.enabled:
            return
        clean = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and math.isfinite(v)}
        record: dict[str, Any] = {"step": step, "split": split, "time": round(time.time() - self.start, 3), **clean}
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        if self._tb is not None:
            for k, v in clean.items():
                self._tb.add_scalar(f"{split}/{k}", v, step)

    def progress(self, step: int, postfix: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.n = step
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)
            self._bar.refresh()

    def audio(self, tag: str, wav: np.ndarray, sample_rate: int, step: int) -> None:
        if self._tb is not None:
            self._tb.add_audio(tag, np.asarray(wav, dtype=np.float32).reshape(1, -1), step, sample_rate=sample_rate)

    def image(self, tag: str, image_hwc: np.ndarray, step: int) -> None:
        """An [H, W, 3] uint8 image (e.g. ``ninerepro.viz.figure_to_array``)."""
        if self._tb is not None:
            self._tb.add_image(tag, image_hwc, step, dataformats="HWC")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._tb is not None:
            self._tb.close()
        if self._jsonl is not None:
            self._jsonl.close()
        self._bar = self._tb = self._jsonl = None
