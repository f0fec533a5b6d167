"""LR schedules: warmup, cosine/linear decay to a floor, exponential and per-epoch step annealing."""

import math

import pytest

from ninerepro.train.schedule import LRFactor, ScheduleConfig


def test_linear_warmup_then_cosine_reaches_the_floor():
    f = LRFactor(ScheduleConfig(name="cosine", warmup_steps=10, min_lr_ratio=0.1), total_steps=110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: cos(pi/2) = 0
    assert f(110) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)


def test_linear_decay_and_exponential_decay():
    lin = LRFactor(ScheduleConfig(name="linear"), total_steps=100)
    assert lin(50) == pytest.approx(0.5) and lin(100) == pytest.approx(0.0)
    exp = LRFactor(ScheduleConfig(name="exponential", gamma=0.5, decay_steps=10), total_steps=100)
    assert exp(20) == pytest.approx(0.25) and exp(5) == pytest.approx(math.sqrt(0.5))


def test_step_annealing_per_epoch_uses_the_loader_length():
    f = LRFactor(ScheduleConfig(name="step", gamma=0.9, step_size_epochs=1), total_steps=1000, steps_per_epoch=25)
    assert f(24) == 1.0 and f(25) == pytest.approx(0.9) and f(75) == pytest.approx(0.9**3)


def test_a_step_schedule_without_a_period_is_rejected():
    with pytest.raises(ValueError, match="step_size"):
        ScheduleConfig(name="step")


def test_step_decay_never_goes_below_the_floor():
    # Mellotron: lr 1e-3 halved every 50k steps, floored at 1e-5
    from ninerepro.train.schedule import LRFactor, ScheduleConfig

    f = LRFactor(ScheduleConfig(name="step", gamma=0.5, step_size=50_000, min_lr_ratio=0.01), total_steps=10**6)
    assert f(49_999) == 1.0 and f(50_000) == 0.5 and f(300_000) == 0.5**6
    assert f(350_000) == 0.01 and f(900_000) == 0.01
