"""Print the HTML report to PDF with headless Chromium. (Being written.)"""

from __future__ import annotations

from pathlib import Path


def print_pdf(html: Path, pdf: Path) -> None:
    raise NotImplementedError("PDF printing is not written yet")
