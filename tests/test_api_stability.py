"""The public API (harness.__all__, the hookspecs, the result fields) matches tests/api_snapshot.py."""

from __future__ import annotations

import dataclasses

import pytest

import harness
import api_snapshot as api
@pytest.mark.parametrize("part", ["names", "hookspecs", "fields", "check_attributes"])
def test_the_live_api_matches_the_list(part: str) -> None:
    live, listed = api.live_api()[part], api.listed_api()[part]
    assert live == listed, (
        f"the public API ({part}) changed: update tests/api_snapshot.py on purpose (and say so in the release notes).\n"
        f"live:   {live}\nlisted: {listed}"
    )


def test_every_listed_name_is_importable_from_harness() -> None:
    for name in api.PUBLIC_NAMES:
        assert getattr(harness, name) is not None


def test_a_change_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison is not vacuous: an added name, hook parameter or field shows up."""
    monkeypatch.setattr(harness, "__all__", [*harness.__all__, "internal_helper"])
    assert api.live_api()["names"] != api.listed_api()["names"]
    monkeypatch.undo()

    from harness.plugin import hookspecs
    def harness_run_start(ctx, extra):  # type: ignore[no-untyped-def]
        """changed"""

    monkeypatch.setattr(hookspecs, "harness_run_start", hookspecs.hookspec(harness_run_start))
    assert api.live_api()["hookspecs"]["harness_run_start"] != api.HOOKSPECS["harness_run_start"]
    monkeypatch.undo()

    from harness.results import types as results
    @dataclasses.dataclass(frozen=True)
    class CheckResult(results.CheckResult):
        severity: str = "low"

    monkeypatch.setattr(results, "CheckResult", CheckResult)
    assert "severity" in api.live_api()["fields"]["CheckResult"]
