"""Charts as inline SVG, drawn by matplotlib when a report is rendered.

Every chart is rendered from results.json data alone (no model, no data), with
a fixed SVG hash salt and no date metadata, so the same results always give
the same bytes: ``harness report`` stays byte-identical to the run's page.
Text stays text (``svg.fonttype: none``), escaped by matplotlib's XML writer;
data-derived labels are also cleaned of control characters and ``$`` (which
matplotlib would parse as mathtext).

Fonts: every text element's ``font-family`` names :data:`FONT_STACK` (DejaVu
Sans, then common CJK fonts, then the generic ``sans-serif``), so a browser or
PDF printer with any of those fonts shows Chinese labels such as 紧急 / 非紧急.
Layout is measured by matplotlib with the fonts of that stack that are
installed (per-glyph fallback: Latin from DejaVu Sans, Han from the first CJK
font that has it); a CJK font that fontconfig knows but matplotlib's font
cache predates is added for this process. With no CJK font installed,
matplotlib's "Glyph ... missing from font(s)" warnings (one per glyph) are
silenced: the SVG still carries the text, which the viewer's fonts draw.

Language: a chart is drawn in the language of the report being rendered
(:func:`drawn_in`, set by ``render_html`` around the report-sections hook).
Its fixed words are msgids (marked ``N_`` where they are written, here and in
the plugins) and are translated before layout, so the translated labels are
measured like any others; a label with data in it is a template filled by
:func:`label`. Data drawn (class and group names, attack names: whatever went
through ``_label`` or :func:`label`'s values) is never translated and, on a
page in another language, is marked ``translate="no"``; a text the catalog
cannot translate stays English and is marked ``lang="en"``. English charts
are drawn exactly as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import html
import io
import re
import shutil
import subprocess
import warnings
from typing import TYPE_CHECKING, Any, Sequence

from harness.text.i18n import DEFAULT_LANGUAGE, N_, check_language, lookup, translator
from harness.text.numbers import format_number

if TYPE_CHECKING:
    from collections.abc import Iterator

    from markupsafe import Markup

#: Fonts with CJK glyphs, most common first (Linux: Noto / Source Han / WenQuanYi; Windows; macOS).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
)

#: The font stack every chart text names (the report's stylesheet names the same fonts).
FONT_STACK = ("DejaVu Sans", *CJK_FONTS, "sans-serif")

_STYLE = {
    "svg.hashsalt": "audit-harness",
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

# matplotlib warns once per glyph that no measured font has (CJK text without a CJK font installed).
_MISSING_GLYPH = r"Glyph \d+ \(.*\) missing from font\(s\)"

_font_families: list[str] | None = None

#: The language charts are drawn in (:func:`drawn_in`).
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("chart_language", default=DEFAULT_LANGUAGE)
#: What the figure being drawn shows: data texts (never translated), and texts already in the chart's language
#: with the data values inside them (:func:`label`).
_DATA: contextvars.ContextVar[set[str]] = contextvars.ContextVar("chart_data")
_TRANSLATED: contextvars.ContextVar[dict[str, tuple[str, ...]]] = contextvars.ContextVar("chart_translated")


@contextlib.contextmanager
def drawn_in(language: str) -> "Iterator[None]":
    """Charts drawn inside this block speak ``language`` (the report's); English outside any block."""
    token = _LANGUAGE.set(check_language(language))
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def chart_language() -> str:
    """The language the charts being drawn speak (:func:`drawn_in`)."""
    return _LANGUAGE.get()


def _data() -> set[str]:
    try:
        return _DATA.get()
    except LookupError:
        _DATA.set(set())
        return _DATA.get()


def _translated() -> dict[str, tuple[str, ...]]:
    try:
        return _TRANSLATED.get()
    except LookupError:
        _TRANSLATED.set({})
        return _TRANSLATED.get()


def label(template: str, **values: Any) -> str:
    """A chart text with data in it: ``template`` (a msgid, marked ``N_`` by the caller) in the chart's language, filled with ``values``.

    The values are data: shown as they are (cleaned like every drawn label) and,
    on a page in another language, marked untranslatable inside the text.
    """
    shown = {name: _label(value) for name, value in values.items()}
    language = chart_language()
    wording = template if language == DEFAULT_LANGUAGE else (lookup(translator(language), template) or template)
    text = wording.format(**shown)
    if wording != template or language == DEFAULT_LANGUAGE:
        inside = tuple(_drawn(value) for value in shown.values())
        _translated().update({text: inside, _drawn(text): inside})  # as set on the artist, and as the SVG shows it
    return text


def _drawn(value: str) -> str:
    """A label as the SVG shows it (matplotlib draws an escaped ``\\$`` as ``$``)."""
    return value.replace(r"\$", "$")


def _fontconfig_cjk_files() -> list[str]:
    """Font files fontconfig lists for Chinese whose family is one of :data:`CJK_FONTS`."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        done = subprocess.run([fc_list, ":lang=zh", "family", "file"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    files = []
    for line in done.stdout.splitlines():
        path, _, families = line.partition(": ")
        if path and any(family.strip() in CJK_FONTS for family in families.split(",")) and path not in files:
            files.append(path)
    return sorted(files)


def font_families() -> list[str]:
    """``font.family`` for matplotlib: the installed fonts of :data:`FONT_STACK`, then ``sans-serif``.

    Only installed fonts can measure text (and a family matplotlib cannot find is
    logged at every layout), so the measured list names those; the generic
    ``sans-serif`` at its end expands, in the SVG, to the whole stack
    (``font.sans-serif``). Worked out once per process.
    """
    global _font_families
    if _font_families is None:
        from matplotlib import font_manager

        def installed() -> set[str]:
            return {entry.name for entry in font_manager.fontManager.ttflist}

        known = installed()
        if not known & set(CJK_FONTS):
            # matplotlib's font cache is written once; a CJK font installed after it is not in it.
            for path in _fontconfig_cjk_files():
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
            known = installed()
        _font_families = [name for name in FONT_STACK[:-1] if name in known or name == "DejaVu Sans"] + ["sans-serif"]
    return _font_families


def _label(text: Any, limit: int = 40) -> str:
    """A data text as a chart draws it (one line, ``$`` escaped, shortened); remembered as data, never translated."""
    from harness.text.sanitize import one_line

    value = one_line(text).replace("$", r"\$")
    value = value if len(value) <= limit else value[: limit - 1] + "\u2026"
    _data().update((value, _drawn(value)))
    return value


def _translate_texts(figure: Any, title: str) -> str:
    """Every fixed text of ``figure`` (a msgid) in the chart's language before layout; the title (aria-label) too."""
    language = chart_language()
    if language == DEFAULT_LANGUAGE:
        return title
    from matplotlib.text import Text

    tr, data, translated = translator(language), _data(), _translated()
    for artist in figure.findobj(Text):
        text = artist.get_text()
        if not text or text in data or text in translated:
            continue
        found = lookup(tr, text)
        if found is not None:
            artist.set_text(found)
            translated[found] = ()
    if title in translated:
        return title
    found = lookup(tr, title)
    if found is not None:
        translated[found] = ()
        return found
    return title


_SVG_TEXT = re.compile(r"<text([^>]*)>([^<]*)</text>")
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _mark_language(svg: str, title: str) -> str:
    """On a page in another language: data texts ``translate="no"``, untranslated English ``lang="en"``.

    A translated text with data in it (:func:`label`) marks the data inside it;
    a chart whose title stayed English is marked English as a whole.
    """
    if chart_language() == DEFAULT_LANGUAGE:
        return svg
    from markupsafe import escape

    data, translated = _data(), _translated()

    def mark(match: "re.Match[str]") -> str:
        attributes, content = match.groups()
        text = html.unescape(content)
        if text in data:
            return f'<text{attributes} translate="no">{content}</text>'
        if text in translated:
            inside = sorted({str(escape(v)) for v in translated[text] if v and str(escape(v)) in content}, key=len, reverse=True)
            if inside:
                content = re.sub("|".join(re.escape(d) for d in inside), lambda m: f'<tspan translate="no">{m.group(0)}</tspan>', content)
            return f"<text{attributes}>{content}</text>"
        if _WORDS.search(text):
            return f'<text{attributes} lang="en">{content}</text>'
        return match.group(0)  # numbers and symbols

    svg = _SVG_TEXT.sub(mark, svg)
    if title not in translated:
        svg = svg.replace("<svg", '<svg lang="en"', 1)
    return svg


def _to_svg(figure: Any, title: str) -> "Markup":
    """Serialise a figure as an ``<svg>`` element ready to inline in HTML.

    Returned as ``Markup``: the SVG is made by matplotlib, whose XML writer
    escapes every text it draws, so the markup itself is trusted.
    """
    import matplotlib.pyplot as plt

    title = _translate_texts(figure, title)
    buffer = io.StringIO()
    try:
        with warnings.catch_warnings():
            # No CJK font to measure with: the text is still written as text, for the viewer's fonts.
            warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
            figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    finally:
        plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE (not valid inside HTML)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s(xmlns(:xlink)?)="[^"]*"', "", svg)
    svg = re.sub(r'"data:image/png;base64,\s+', '"data:image/png;base64,', svg)  # matplotlib starts the data with a newline
    # matplotlib names groups figure_1, text_1, ... and reuses marker ids in every chart: drop
    # the ids nothing refers to and prefix the rest per chart, so ids stay unique on the page
    reference = re.compile(r'(url\(#|href="#)([\w.:-]+)')
    referenced = set(re.findall(r'\sid="([^"]*)"', svg)) & {name for _, name in reference.findall(svg)}
    prefix = "c" + hashlib.sha256(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'\sid="([^"]*)"', lambda m: f' id="{prefix}{m.group(1)}"' if m.group(1) in referenced else "", svg)
    svg = reference.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}" if m.group(2) in referenced else m.group(0), svg)
    svg = _mark_language(svg, title)
    _DATA.set(set())  # the next chart registers what it draws afresh (its labels may be made before its figure)
    _TRANSLATED.set({})
    from markupsafe import Markup, escape

    return Markup(svg.replace("<svg", f'<svg role="img" aria-label="{escape(title)}"', 1))


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update(_STYLE)
    plt.rcParams["font.family"] = font_families()
    plt.rcParams["font.sans-serif"] = list(FONT_STACK[:-1])
    return plt.subplots(figsize=(width, height))


def confusion_matrix_svg(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> "Markup":
    """Counts with row-normalised shading; every cell is labelled (not colour alone)."""
    import numpy as np

    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = 1.2 + 0.7 * len(labels)
    figure, axes = _figure(size + 1.0, size)
    axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [_label(name, 18) for name in labels]
    axes.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel(N_("predicted"))
    axes.set_ylabel(N_("true"))
    for (i, j), value in np.ndenumerate(counts):
        axes.text(j, i, f"{int(value)}\n{share[i, j]:.0%}", ha="center", va="center", color="white" if share[i, j] > 0.6 else "black")
    return _to_svg(figure, N_("Confusion matrix: counts and share of each true class"))


def reliability_svg(bins: Sequence[dict[str, Any]]) -> "Markup":
    """Accuracy against confidence per bin, the diagonal as perfect calibration, counts as bars."""
    filled = [b for b in bins if b.get("count")]
    figure, axes = _figure(4.2, 3.6)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label=N_("perfect calibration"))
    if filled:
        confidence = [b["mean_confidence"] for b in filled]
        accuracy = [b["accuracy"] for b in filled]
        axes.plot(confidence, accuracy, marker="o", color="#1f4e99", label=N_("model"))
        total = sum(b["count"] for b in filled)
        share = axes.twinx()
        share.bar([(b["lower"] + b["upper"]) / 2 for b in filled], [b["count"] / total for b in filled],
                  width=[(b["upper"] - b["lower"]) * 0.9 for b in filled], alpha=0.2, color="grey")
        share.set_ylabel(N_("share of examples"))
        share.set_ylim(0, 1)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel(N_("mean confidence in bin"))
    axes.set_ylabel(N_("accuracy in bin"))
    axes.legend(loc="upper left", frameon=False)
    return _to_svg(figure, N_("Reliability diagram"))


def interval_bars_svg(rows: Sequence[tuple[str, float | None, float | None, float | None]], *, xlabel: str, title: str) -> "Markup":
    """Horizontal bars with interval whiskers, one per (label, value, low, high)."""
    shown = [r for r in rows if r[1] is not None]
    figure, axes = _figure(5.0, 0.9 + 0.35 * max(1, len(shown)))
    positions = list(range(len(shown)))
    axes.barh(positions, [r[1] for r in shown], color="#8fb3e8")
    for y, (_, value, low, high) in zip(positions, shown):
        if low is not None and high is not None:
            axes.errorbar(value, y, xerr=[[value - low], [high - value]], fmt="none", ecolor="black", capsize=3)
        axes.text(value, y, f" {format_number(value)}", va="center", ha="left")
    axes.set_yticks(positions, [_label(r[0], 30) for r in shown])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    return _to_svg(figure, title)


def roc_svg(fpr: Sequence[float], tpr: Sequence[float], *, title: str = N_("ROC curve (log-scale false positive rate)")) -> "Markup":
    """ROC with a log-scale x axis, where low-FPR behaviour (the part attacks care about) is visible."""
    figure, axes = _figure(4.2, 3.6)
    points = [(f, t) for f, t in zip(fpr, tpr) if f > 0]
    if points:
        axes.plot([p[0] for p in points], [p[1] for p in points], color="#1f4e99", label=N_("model"))
        low = min(p[0] for p in points)
        axes.plot([low, 1], [low, 1], linestyle="--", color="grey", linewidth=1, label=N_("chance"))
    axes.set_xscale("log")
    axes.set_xlabel(N_("false positive rate (log)"))
    axes.set_ylabel(N_("true positive rate"))
    axes.legend(loc="lower right", frameon=False)
    return _to_svg(figure, title)
