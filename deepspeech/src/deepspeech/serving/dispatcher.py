"""Batch Dispatch (DS2 §7): one worker thread gathers concurrent requests into batches for one model.

Why batch at all: a forward pass over a batch of B utterances costs far less than B single forwards
(the matrix multiplies get wider, the per-call overhead is paid once), so under load the server answers
more requests per second *and* each waits less in the queue. The paper's dispatcher is *eager*: the
next batch starts as soon as the model is free, with whatever requests are queued, so the batch size
grows with the load by itself. We add one knob on top, ``max_wait_s``: once the first request of a batch
has arrived, wait at most that long for more (0 = the paper's purely eager policy). ``max_batch = 1``
is the unbatched baseline the paper compares against.

Threads that handle HTTP requests call :meth:`BatchDispatcher.submit` and block on the returned
future; only the dispatcher thread ever touches the model, so the model needs no locking.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

TranscribeBatch = Callable[[list[np.ndarray]], Sequence[str]]


@dataclass(frozen=True)
class Transcript:
    """One answer: the text, the size of the batch it rode in, and time spent queued + computing."""

    text: str
    batch_size: int
    queue_ms: float
    compute_ms: float


class DispatcherClosed(RuntimeError):
    """Raised into pending futures (and by ``submit``) once the dispatcher has been stopped."""


class QueueFull(RuntimeError):
    """The bounded request queue is full: the server is overloaded, the client should retry later."""


@dataclass
class _Pending:
    audio: np.ndarray
    future: Future
    enqueued: float


class BatchDispatcher:
    """Collects submitted utterances into batches of at most ``max_batch`` and runs ``transcribe_batch``."""

    def __init__(
        self,
        transcribe_batch: TranscribeBatch,
        max_batch: int = 16,
        max_wait_s: float = 0.010,
        max_queue: int = 256,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1 (1 = unbatched), got {max_batch}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0 seconds, got {max_wait_s}")
        if max_queue < max_batch:
            raise ValueError(f"max_queue ({max_queue}) must be at least max_batch ({max_batch})")
        self.transcribe_batch = transcribe_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=max_queue)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="batch-dispatch", daemon=True)
        self._thread.start()

    def submit(self, audio: np.ndarray) -> Future:
        """Queue one utterance; the future resolves to a :class:`Transcript` (or the batch's error)."""
        if self._closed.is_set():
            raise DispatcherClosed("the server is shutting down")
        pending = _Pending(audio=audio, future=Future(), enqueued=time.perf_counter())
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            raise QueueFull(f"{self._queue.maxsize} requests already queued; retry later") from None
        if self._closed.is_set():  # close() ran between the check above and the put: do not strand it
            self._fail_remaining()
        return pending.future

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking work, finish the batch in flight, fail whatever is still queued, join the thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        # wake the worker if it is blocked on an empty queue (if the queue is full it is not blocked)
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)
        self._fail_remaining()

    def _run(self) -> None:
        while not self._closed.is_set():
            batch = self._collect()
            if batch:
                self._run_batch(batch)
        self._fail_remaining()

    def _collect(self) -> list[_Pending]:
        """Block for the first request, then take more until the batch is full or ``max_wait_s`` passes."""
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        deadline = time.perf_counter() + self.max_wait_s
        while len(batch) < self.max_batch:
            remaining = deadline - time.perf_counter()
            try:
                item = self._queue.get_nowait() if remaining <= 0 else self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is None:  # close() was called: answer what we hold, then stop
                break
            batch.append(item)
        return batch

    def _forward(self, batch: list[_Pending]) -> list[str]:
        texts = list(self.transcribe_batch([p.audio for p in batch]))
        if len(texts) != len(batch):
            raise RuntimeError(f"transcribe_batch returned {len(texts)} texts for {len(batch)} inputs")
        return texts

    def _run_batch(self, batch: list[_Pending]) -> None:
        """One forward pass for the whole batch. If it fails, each request is run again alone, so one bad
        input fails only its own request; the others of the batch still get their text."""
        start = time.perf_counter()
        try:
            texts = self._forward(batch)
        except Exception as err:  # the model's failure goes to its clients; the loop lives on
            if len(batch) == 1:
                log.exception("request failed")
                batch[0].future.set_exception(err)
                return
            log.warning("batch of %d failed (%s: %s); retrying its requests one by one",
                        len(batch), type(err).__name__, err)
            for pending in batch:
                self._run_batch([pending])
            return
        compute_ms = (time.perf_counter() - start) * 1000.0
        for pending, text in zip(batch, texts):
            queue_ms = (start - pending.enqueued) * 1000.0
            pending.future.set_result(Transcript(text, len(batch), queue_ms, compute_ms))

    def _fail_remaining(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None and not item.future.done():
                item.future.set_exception(DispatcherClosed("the server shut down before this request ran"))
