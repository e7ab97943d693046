"""What a plugin adds to the report: :class:`ReportSection` (public: ``harness.ReportSection``).

It lives in the plugin layer, not beside the HTML writer, because plugins build
it in ``harness_report_sections`` and need nothing of the renderer to do so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class ReportSection:
    """A section a plugin adds to the report: its template is rendered with ``context``.

    The keys of ``context`` are the template's top-level variables (``{{ rows }}``
    for ``context={"rows": ...}``). Sections at one place are shown by ``order``,
    lower first.

    ``search_path`` is the folder holding the template (a plugin's own
    ``templates/``); template names should be prefixed with the plugin's name
    to avoid clashes, e.g. ``harness_accuracy/confusion.html``.

    Placement: with ``check`` set, the section is shown inside that check's
    block (charts, examples); with ``suite`` set, at the end of that suite's
    section; with neither, as a section of its own after the suites.
    """

    title: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    search_path: str | None = None
    order: int = 100
    check: str | None = None
    suite: str | None = None
