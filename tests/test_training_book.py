"""EpochBook: the early-stopping bookkeeping shared by the core loop and the DP-SGD loop."""

from __future__ import annotations

import time
from types import SimpleNamespace

from harness.config.settings import FineTuneConfig
from harness.ml.training import EpochBook


def _book(patience: int | None, epochs: int = 10) -> EpochBook:
    handle = SimpleNamespace(model=None)  # no validation split: the model is never evaluated or copied
    return EpochBook(handle, None, FineTuneConfig(epochs=epochs, early_stopping_patience=patience), max_length=32)


def test_stops_after_patience_epochs_without_improvement_and_keeps_the_best() -> None:
    book = _book(patience=2)
    losses = [1.0, 0.8, 0.85, 0.9, 0.5]
    stopped_at = None
    for epoch, loss in enumerate(losses, start=1):
        if book.end_epoch(epoch, loss, time.perf_counter()):
            stopped_at = epoch
            break
    assert stopped_at == 4 and book.stopped_early
    assert book.best_epoch == 2 and book.best_loss == 0.8
    assert [r.epoch for r in book.history] == [1, 2, 3, 4] and [r.train_loss for r in book.history] == [1.0, 0.8, 0.85, 0.9]
    book.restore_best()  # nothing to restore without a validation split (no copy was taken)


def test_without_patience_it_never_stops_and_the_last_epoch_is_not_early() -> None:
    book = _book(patience=None, epochs=3)
    assert not any(book.end_epoch(epoch, loss, time.perf_counter()) for epoch, loss in enumerate([1.0, 2.0, 3.0], start=1))
    assert not book.stopped_early and book.best_epoch == 1
    last = _book(patience=1, epochs=2)
    last.end_epoch(1, 1.0, time.perf_counter())
    assert last.end_epoch(2, 2.0, time.perf_counter()) and not last.stopped_early  # the planned end, not an early stop
