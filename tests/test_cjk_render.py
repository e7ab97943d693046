"""Chinese labels (紧急 / 非紧急) in the charts, the HTML report in a real browser, and its PDF.

Charts (no browser needed): matplotlib draws the labels as SVG text whose
``font-family`` names the CJK fonts of ``harness.outputs.charts.FONT_STACK``,
measures them with an installed CJK font when there is one, and emits no
warning either way (the per-glyph "missing from font(s)" warnings of a machine
without a CJK font are silenced, and only those).

Browser and PDF: a small Chinese audit (``builtin:clinical-triage-zh``, 200
notes, one epoch, the smoke suite plus ``accuracy.per_class``) is run once for
the module. Its report is opened in headless
Chromium over CDP and the PDF is printed with ``harness report --pdf``;
``pdftotext`` must read 紧急 and 非紧急 back. Text read back proves little on
its own: a PDF printed without any CJK font still carries the characters (as
empty boxes, "tofu"). So the pixels of a label are checked too, in a
screenshot of the page and in the PDF page rendered by ``pdftoppm``:
:func:`tofu_reason` calls a rendering tofu when it has almost no ink, when
each glyph's ink lies on the edge of its box (a hollow rectangle), or when it
matches the rendering of U+E000, a private-use codepoint no font draws. The
detector is itself checked on known tofu: U+E000 and □□ (U+25A1) in the same
place, and the very same label and PDF made by a Chromium whose fontconfig
sees only matplotlib's DejaVu fonts (``FONTCONFIG_FILE``), i.e. a machine
without a CJK font.

Skipped, with the reason, without chromium, pdftotext/pdftoppm (poppler-utils)
or a CJK font (``fc-list :lang=zh``); ``make chromium`` (run by ``make test``)
installs all three, Debian's ``fonts-noto-cjk`` for the font.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cdp import HeadlessChromium, find_chromium
from conftest import offline_env, run_cli, write_config

CHROMIUM = find_chromium()
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
PDFFONTS = shutil.which("pdffonts")
FC_LIST = shutil.which("fc-list")


def _cjk_font_installed() -> bool:
    if FC_LIST is None:
        return False
    done = subprocess.run([FC_LIST, ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
    return bool(done.stdout.strip())


CJK_FONT = _cjk_font_installed()

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make chromium / make test installs Debian's)")
needs_poppler = pytest.mark.skipif(
    None in (PDFTOTEXT, PDFTOPPM, PDFFONTS), reason="pdftotext/pdftoppm/pdffonts are not installed (poppler-utils; make chromium installs it)"
)
needs_cjk_font = pytest.mark.skipif(
    not CJK_FONT, reason="no CJK font installed (fc-list :lang=zh finds none; make chromium installs Debian's fonts-noto-cjk)"
)

URGENT, NOT_URGENT = "紧急", "非紧急"
TOFU_PROBE = "\ue000\ue000"  # private use: no font has a glyph, every renderer draws .notdef
WHITE_SQUARES = "\u25a1\u25a1"  # □□: a real glyph that looks like tofu
SCALE = 4  # screenshot and PDF raster scale (4 px per CSS px; 288 dpi)


# -- charts ---------------------------------------------------------------------------------------


def _chinese_charts() -> list[str]:
    from harness.outputs import charts

    return [
        str(charts.confusion_matrix_svg([[30, 4], [6, 60]], [URGENT, NOT_URGENT])),
        str(charts.interval_bars_svg([(URGENT, 0.83, 0.7, 0.92), (NOT_URGENT, 0.91, 0.85, 0.95)], xlabel="recall", title="Recall per class")),
        str(charts.reliability_svg([
            {"lower": 0.5, "upper": 0.75, "count": 20, "mean_confidence": 0.62, "accuracy": 0.55},
            {"lower": 0.75, "upper": 1.0, "count": 80, "mean_confidence": 0.9, "accuracy": 0.88},
        ])),
    ]


def _font_families(svg: str) -> set[str]:
    return set(re.findall(r"font-family: ?([^;\"]+)", svg))


def test_chinese_chart_labels_are_svg_text_naming_cjk_fonts(recwarn: pytest.WarningsRecorder) -> None:
    from harness.outputs.charts import CJK_FONTS, FONT_STACK

    matrix, bars, reliability = _chinese_charts()
    assert [str(w.message) for w in recwarn] == [], "drawing Chinese labels warned"
    for svg in (matrix, bars):
        texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
        assert URGENT in texts and NOT_URGENT in texts, f"the labels are not SVG text: {texts}"
    for svg in (matrix, bars, reliability):
        families = _font_families(svg)
        assert len(families) == 1, families
        names = [name.strip().strip("'\"") for name in families.pop().split(",")]
        # every font of the stack, DejaVu Sans first and the generic family last (installed CJK fonts,
        # which matplotlib measured with, come right after DejaVu Sans: all of them on a Noto machine)
        assert sorted(names) == sorted(FONT_STACK) and names[0] == "DejaVu Sans" and names[-1] == "sans-serif", names
        assert set(CJK_FONTS) <= set(names[:-1])


@needs_cjk_font
def test_chart_layout_is_measured_with_an_installed_cjk_font(recwarn: pytest.WarningsRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.outputs import charts

    measured = charts.font_families()
    assert any(name in charts.CJK_FONTS for name in measured), f"fontconfig has a CJK font, matplotlib measures with {measured}"
    # No warning to silence at all: with the filter gone, matplotlib still finds every glyph.
    monkeypatch.setattr(charts, "_MISSING_GLYPH", "a message matplotlib never writes")
    _chinese_charts()
    assert [str(w.message) for w in recwarn] == []


def test_without_a_cjk_font_only_missing_glyph_warnings_are_silenced(recwarn: pytest.WarningsRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.outputs import charts

    monkeypatch.setattr(charts, "font_families", lambda: ["DejaVu Sans", "sans-serif"])  # a machine without a CJK font
    svg = _chinese_charts()[0]
    assert [str(w.message) for w in recwarn] == [], "missing-glyph warnings leaked"
    assert f">{URGENT}</text>" in svg, "the text must stay in the SVG for the viewer's fonts"
    # The same drawing with the filter not matching: matplotlib does warn, once per missing glyph.
    monkeypatch.setattr(charts, "_MISSING_GLYPH", "a message matplotlib never writes")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.confusion_matrix_svg([[1, 0], [0, 1]], [URGENT, NOT_URGENT])
    messages = {str(w.message) for w in caught}
    assert messages and all(re.match(r"Glyph \d+ \(.*\) missing from font\(s\)", m) for m in messages), messages



def test_report_stylesheet_names_the_charts_cjk_fonts_before_the_generic_family() -> None:
    from harness.outputs.charts import CJK_FONTS

    css = (Path(__file__).resolve().parents[1] / "templates" / "report.css.html").read_text(encoding="utf-8")
    body = re.search(r"\bbody\s*\{[^}]*font-family:\s*([^;]+);", css)
    assert body, "no font-family on body in templates/report.css.html"
    names = [name.strip().strip("'\"") for name in body.group(1).split(",")]
    assert names[0] == "DejaVu Sans" and names[-1] == "sans-serif", names
    cjk = [name for name in names if name in CJK_FONTS]
    assert cjk == list(CJK_FONTS), f"the stylesheet's CJK fonts {cjk} are not the charts' {list(CJK_FONTS)}"
    assert max(names.index(name) for name in cjk) < min(names.index(g) for g in ("system-ui", "sans-serif") if g in names)

# -- the tofu detector ------------------------------------------------------------------------------


def ink_mask(png: bytes) -> np.ndarray:
    """Pixels that differ clearly from the background (the most common grey), without ruled lines
    (a table border or chart spine that crosses the whole region)."""
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)
    values, counts = np.unique(grey, return_counts=True)
    mask = np.abs(grey - int(values[counts.argmax()])) >= 96
    height, width = mask.shape
    mask[mask.sum(axis=1) >= 0.9 * width, :] = False
    mask[:, mask.sum(axis=0) >= 0.9 * height] = False
    return mask


def _crop(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _glyphs(mask: np.ndarray, count: int) -> list[np.ndarray]:
    """The ink cut into ``count`` equal columns (one per character), each cropped to its ink."""
    ink = _crop(mask)
    edges = np.linspace(0, ink.shape[1], count + 1).round().astype(int)
    return [_crop(ink[:, a:b]) for a, b in zip(edges[:-1], edges[1:]) if ink[:, a:b].any()]


def _edge_share(glyph: np.ndarray) -> float:
    """Share of a glyph's ink within 15% of its box's edge: 1.0 for a hollow rectangle."""
    height, width = glyph.shape
    band = max(1, round(0.15 * min(height, width)))
    return 1.0 - glyph[band : height - band, band : width - band].sum() / glyph.sum()


def _difference(a: np.ndarray, b: np.ndarray, size: tuple[int, int] = (64, 32)) -> float:
    """Share of differing pixels once both inks are cropped and scaled to one size."""
    from PIL import Image

    def norm(mask: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(_crop(mask).astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 127

    return float((norm(a) != norm(b)).mean())


def tofu_reason(png: bytes, characters: int, notdef: bytes | None = None) -> str | None:
    """Why the rendering of ``characters`` characters in ``png`` is tofu, or None when it shows glyphs."""
    mask = ink_mask(png)
    if mask.sum() < max(40, 0.01 * mask.size):
        return f"almost no ink ({int(mask.sum())} of {mask.size} pixels)"
    glyphs = _glyphs(mask, characters)
    shares = [round(float(_edge_share(g)), 3) for g in glyphs]
    if len(glyphs) < characters or min(shares) > 0.85:
        return f"hollow boxes (share of ink on each glyph's edge: {shares})"
    if notdef is not None:
        difference = _difference(mask, ink_mask(notdef))
        if difference < 0.1:
            return f"the same pixels as the .notdef rendering of U+E000 ({difference:.0%} differ)"
    return None


# -- one Chinese audit for the module ------------------------------------------------------------------


@dataclass
class ZhRun:
    folder: Path
    output: Path

    @property
    def report(self) -> Path:
        return self.output / "report.html"


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory: pytest.TempPathFactory) -> ZhRun:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make chromium / make test installs Debian's)")
    if not CJK_FONT:
        pytest.skip("no CJK font installed (fc-list :lang=zh finds none; make chromium installs Debian's fonts-noto-cjk)")
    folder = tmp_path_factory.mktemp("zh")
    # Only as much as the report needs for Chinese labels in tables and charts (confusion matrix,
    # recall per class): one epoch, the smoke suite's small bootstrap.
    config = write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 1}},
        "data": {"path": "builtin:clinical-triage-zh", "synthetic": {"size": 200}},
        "suite": "smoke",
        "checks": {"accuracy.per_class": {"n_boot": 200}},
        "seed": 0,
        "output": {"dir": "out"},
    })
    cli = run_cli("run", str(config), cwd=folder)
    assert cli.returncode in (0, 1), cli.stderr + cli.stdout  # 1: a gate failed or could not decide on 40 notes
    run = ZhRun(folder, folder / "out")
    assert URGENT in run.report.read_text(encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def no_cjk_fontconfig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fontconfig file that sees only matplotlib's bundled DejaVu fonts: a machine without a CJK font."""
    import matplotlib

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    if FC_LIST is not None:
        listed = subprocess.run([FC_LIST, ":lang=zh"], capture_output=True, text=True, timeout=30, env={**offline_env(), "FONTCONFIG_FILE": str(conf)})
        assert listed.stdout.strip() == "", f"the restricted fontconfig still lists CJK fonts: {listed.stdout[:500]}"
    return conf


# -- the page in a browser ------------------------------------------------------------------------------

#: Finds the first text node holding TARGET inside an element matching SCOPE (SVG text: not rotated),
#: remembers it, and returns the page rectangle of TARGET in it.
_FIND = r"""
(() => {
  const target = %s, scope = %s;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode()); ) {
    const start = node.data.indexOf(target), element = node.parentElement;
    const angle = /rotate\((-?[\d.]+)/.exec(element.getAttribute('transform') || '');  // matplotlib: rotate(-0 x y)
    if (start < 0 || !element.closest(scope) || (angle && Number(angle[1]) !== 0)) continue;
    if (node.data.slice(start - 1, start) === '非') continue;  // 紧急 inside 非紧急
    window.__label = {node, start, length: target.length};
    element.scrollIntoView({block: 'center'});
    return true;
  }
  return false;
})()
"""

#: Puts TEXT where the remembered label is (same element, same style) and returns its page rectangle.
_SET = r"""
(() => {
  const label = window.__label, text = %s;
  label.node.data = label.node.data.slice(0, label.start) + text + label.node.data.slice(label.start + label.length);
  label.length = text.length;
  const range = document.createRange();
  range.setStart(label.node, label.start);
  range.setEnd(label.node, label.start + text.length);
  const box = range.getBoundingClientRect();
  return {x: box.x + window.scrollX, y: box.y + window.scrollY, width: box.width, height: box.height,
          font: getComputedStyle(label.node.parentElement).fontFamily};
})()
"""


def _region(browser: HeadlessChromium, box: dict[str, Any]) -> bytes:
    shot = browser.send(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"], "scale": SCALE}},
        timeout=60,
    )
    return base64.b64decode(shot["data"])


def _label_renderings(report: Path, scopes: tuple[str, ...], folder: Path) -> dict[str, dict[str, Any]]:
    """Per scope: screenshots of 紧急 in the first such element that holds it, and of U+E000 / □□ in its place
    (one browser, the page loaded afresh for each scope; the PNGs are also written to ``folder``)."""
    renderings: dict[str, dict[str, Any]] = {}
    folder.mkdir(parents=True, exist_ok=True)
    with HeadlessChromium(CHROMIUM, window=(1280, 900), timeout=30) as browser:  # type: ignore[arg-type]
        for scope in scopes:
            browser.open(report.as_uri(), timeout=60)
            assert browser.evaluate(_FIND % (json.dumps(URGENT), json.dumps(scope))), f"no {URGENT} in a {scope} of the report"
            shots: dict[str, Any] = {}
            for name, text in (("label", URGENT), ("notdef", TOFU_PROBE), ("squares", WHITE_SQUARES)):
                box = browser.evaluate(_SET % json.dumps(text))
                assert box["width"] > 0 and box["height"] > 0, box
                shots[name] = _region(browser, box)
                shots["font"] = box["font"]
                (folder / f"{scope.replace(' ', '-')}-{name}.png").write_bytes(shots[name])
            renderings[scope] = shots
    return renderings


SCOPES = ("td", "svg text")  # a table cell, and a chart's (unrotated) tick label


@pytest.fixture(scope="module")
def page_renderings(zh_run: ZhRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], Path]:
    folder = tmp_path_factory.mktemp("screenshots")
    return _label_renderings(zh_run.report, SCOPES, folder), folder


@needs_chromium
@needs_cjk_font
@pytest.mark.parametrize("scope", SCOPES, ids=["table-cell", "chart"])
def test_chinese_label_in_the_page_is_drawn_not_tofu(page_renderings: tuple[dict[str, dict[str, Any]], Path], scope: str) -> None:
    renderings, folder = page_renderings
    shots = renderings[scope]
    assert "Noto Sans CJK SC" in shots["font"], f"the {scope}'s font stack names no CJK font: {shots['font']}"
    # The detector flags known tofu in the same place: .notdef boxes, and the look-alike □□.
    assert tofu_reason(shots["notdef"], 2) is not None, f"U+E000 not recognised as tofu (see {folder})"
    assert tofu_reason(shots["squares"], 2) is not None, f"□□ not recognised as boxes (see {folder})"
    reason = tofu_reason(shots["label"], 2, notdef=shots["notdef"])
    assert reason is None, f"{URGENT} in a {scope} renders as tofu: {reason} (screenshots in {folder})"


@needs_chromium
@needs_cjk_font
def test_detector_flags_the_label_on_a_machine_without_cjk_font(
    zh_run: ZhRun, page_renderings: tuple[dict[str, dict[str, Any]], Path], no_cjk_fontconfig: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_font = page_renderings[0]["td"]
    monkeypatch.setenv("FONTCONFIG_FILE", str(no_cjk_fontconfig))
    without = _label_renderings(zh_run.report, ("td",), tmp_path)["td"]
    if without["label"] == with_font["label"]:
        pytest.skip("this chromium ignores FONTCONFIG_FILE, so it cannot show a machine without a CJK font")
    reason = tofu_reason(without["label"], 2, notdef=without["notdef"])
    assert reason is not None, f"{URGENT} drawn without any CJK font was not recognised as tofu (screenshots in {tmp_path})"


# -- the PDF ---------------------------------------------------------------------------------------------

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _print_pdf(zh_run: ZhRun, folder: Path, **env: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    html, pdf = folder / "zh.html", folder / "zh.pdf"
    cli = run_cli("report", str(zh_run.output / "results.json"), "-o", str(html), "--pdf", str(pdf), cwd=folder, env=offline_env(**env), timeout=240)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    return pdf


def _pdf_text(pdf: Path) -> str:
    done = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=60)  # type: ignore[list-item]
    assert done.returncode == 0, done.stderr
    return done.stdout


def _pdf_word_region(pdf: Path, word: str) -> bytes:
    """The first ``word`` of the PDF (pdftotext's word boxes), rendered by pdftoppm at 288 dpi
    (written beside the PDF as ``<pdf>-word.png``)."""
    boxes = subprocess.run([PDFTOTEXT, "-bbox", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=60)  # type: ignore[list-item]
    assert boxes.returncode == 0, boxes.stderr
    for page, body in enumerate(boxes.stdout.split("<page ")[1:], start=1):
        for x0, y0, x1, y1, text in _WORD.findall(body):
            if text == word:
                x, y = float(x0) * SCALE, float(y0) * SCALE  # PDF points -> pixels at 72 * SCALE dpi
                width, height = (float(x1) - float(x0)) * SCALE, (float(y1) - float(y0)) * SCALE
                done = subprocess.run(
                    [PDFTOPPM, "-r", str(72 * SCALE), "-f", str(page), "-l", str(page), "-x", str(round(x)), "-y", str(round(y)),  # type: ignore[list-item]
                     "-W", str(round(width)), "-H", str(round(height)), "-png", "-singlefile", str(pdf), str(pdf.with_suffix("")) + "-word"],
                    capture_output=True, text=True, timeout=60,
                )
                assert done.returncode == 0, done.stderr
                return Path(str(pdf.with_suffix("")) + "-word.png").read_bytes()
    raise AssertionError(f"no word {word} in the PDF's word boxes")


@needs_chromium
@needs_poppler
@needs_cjk_font
def test_chinese_report_pdf_has_the_characters_and_their_glyphs(zh_run: ZhRun, tmp_path: Path) -> None:
    pdf = _print_pdf(zh_run, tmp_path / "pdf")
    text = _pdf_text(pdf)
    assert URGENT in text and NOT_URGENT in text, text[:3000]
    region = _pdf_word_region(pdf, URGENT)
    (tmp_path / "urgent.png").write_bytes(region)
    reason = tofu_reason(region, 2)
    assert reason is None, f"{URGENT} in the PDF renders as tofu: {reason} (see {tmp_path / 'urgent.png'})"


@needs_chromium
@needs_poppler
@needs_cjk_font
def test_pdf_printed_without_cjk_font_is_flagged_although_its_text_reads_back(
    zh_run: ZhRun, no_cjk_fontconfig: Path, tmp_path: Path
) -> None:
    """Why the PDF test looks at pixels: without a CJK font the text still reads back, as boxes."""
    pdf = _print_pdf(zh_run, tmp_path / "pdf", FONTCONFIG_FILE=str(no_cjk_fontconfig))
    assert URGENT in _pdf_text(pdf)
    listing = subprocess.run([PDFFONTS, str(pdf)], capture_output=True, text=True, timeout=60).stdout  # type: ignore[list-item]
    embedded = [line.split()[0] for line in listing.splitlines()[2:] if line.strip()]
    if any("DejaVu" not in name for name in embedded):
        pytest.skip(f"this chromium ignores FONTCONFIG_FILE (it embedded {embedded}), so it cannot show a machine without a CJK font")
    region = _pdf_word_region(pdf, URGENT)
    (tmp_path / "urgent.png").write_bytes(region)
    assert tofu_reason(region, 2) is not None, f"a PDF printed without CJK fonts was not recognised as tofu (see {tmp_path})"
