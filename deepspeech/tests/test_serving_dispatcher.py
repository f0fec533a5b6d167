"""Batch Dispatch worker: requests that arrive together share a forward pass, and failures stay local."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from deepspeech.serving.dispatcher import BatchDispatcher, DispatcherClosed


class GatedModel:
    """A stand-in for ``Transcriber.transcribe_batch``: records batch sizes, can hold its first call."""

    def __init__(self, hold_first: bool = False) -> None:
        self.batches: list[int] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.hold_first = hold_first

    def __call__(self, wavs: list[np.ndarray]) -> list[str]:
        self.started.set()
        if self.hold_first and not self.batches:
            self.release.wait(5.0)
        self.batches.append(len(wavs))
        return [f"{len(w)} samples" for w in wavs]


def wav(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.float32)


def test_requests_queued_while_the_model_is_busy_ride_together_in_the_next_batch():
    model = GatedModel(hold_first=True)
    dispatcher = BatchDispatcher(model, max_batch=16, max_wait_s=0.0)
    try:
        first = dispatcher.submit(wav(100))
        assert model.started.wait(5.0)
        later = [dispatcher.submit(wav(200 + i)) for i in range(5)]
        model.release.set()
        assert first.result(5.0).batch_size == 1
        answers = [f.result(5.0) for f in later]
    finally:
        dispatcher.close()
    assert model.batches == [1, 5]
    assert [a.text for a in answers] == [f"{200 + i} samples" for i in range(5)]  # each gets its own text
    assert all(a.batch_size == 5 for a in answers)


def test_batches_never_exceed_max_batch():
    model = GatedModel(hold_first=True)
    dispatcher = BatchDispatcher(model, max_batch=2, max_wait_s=0.0)
    try:
        futures = [dispatcher.submit(wav(10))]
        assert model.started.wait(5.0)
        futures += [dispatcher.submit(wav(10)) for _ in range(5)]
        model.release.set()
        for f in futures:
            f.result(5.0)
    finally:
        dispatcher.close()
    assert model.batches == [1, 2, 2, 1]


def test_max_wait_lets_a_request_arriving_shortly_after_the_first_join_its_batch():
    model = GatedModel()
    dispatcher = BatchDispatcher(model, max_batch=8, max_wait_s=0.5)
    try:
        a = dispatcher.submit(wav(1))
        time.sleep(0.05)
        b = dispatcher.submit(wav(2))
        assert a.result(5.0).batch_size == b.result(5.0).batch_size == 2
    finally:
        dispatcher.close()


def test_max_batch_one_is_unbatched_serving():
    model = GatedModel(hold_first=True)
    dispatcher = BatchDispatcher(model, max_batch=1, max_wait_s=0.1)
    try:
        futures = [dispatcher.submit(wav(10))]
        assert model.started.wait(5.0)
        futures += [dispatcher.submit(wav(10)) for _ in range(3)]
        model.release.set()
        assert [f.result(5.0).batch_size for f in futures] == [1, 1, 1, 1]
    finally:
        dispatcher.close()
    assert model.batches == [1, 1, 1, 1]


def test_a_failing_batch_fails_only_its_requests_and_the_worker_keeps_serving():
    calls = []

    def flaky(wavs):
        calls.append(len(wavs))
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory (simulated)")
        return ["ok"] * len(wavs)

    dispatcher = BatchDispatcher(flaky, max_batch=4, max_wait_s=0.0)
    try:
        with pytest.raises(RuntimeError, match="simulated"):
            dispatcher.submit(wav(5)).result(5.0)
        assert dispatcher.submit(wav(5)).result(5.0).text == "ok"
    finally:
        dispatcher.close()


def test_a_model_returning_the_wrong_number_of_texts_is_an_error_not_a_misrouted_answer():
    dispatcher = BatchDispatcher(lambda wavs: ["only one"] * (len(wavs) + 1), max_batch=4, max_wait_s=0.0)
    try:
        with pytest.raises(RuntimeError, match="returned 2 texts for 1 inputs"):
            dispatcher.submit(wav(5)).result(5.0)
    finally:
        dispatcher.close()


def test_close_fails_queued_requests_and_refuses_new_ones():
    model = GatedModel(hold_first=True)
    dispatcher = BatchDispatcher(model, max_batch=1, max_wait_s=0.0)
    running = dispatcher.submit(wav(1))
    assert model.started.wait(5.0)
    queued = dispatcher.submit(wav(2))
    closer = threading.Thread(target=dispatcher.close)
    closer.start()
    time.sleep(0.05)
    model.release.set()  # the batch in flight finishes and is answered
    closer.join(5.0)
    assert running.result(5.0).text == "1 samples"
    with pytest.raises(DispatcherClosed):
        queued.result(5.0)
    with pytest.raises(DispatcherClosed):
        dispatcher.submit(wav(3))
    assert not dispatcher._thread.is_alive()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_batch": 0}, "max_batch"), ({"max_wait_s": -1.0}, "max_wait_s"), ({"max_queue": 1}, "max_queue"),
])
def test_bad_dispatcher_settings_are_refused_with_the_setting_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchDispatcher(lambda w: [], **{"max_batch": 4, **kwargs})
