"""The HTML report is safe to open whatever the data, model, config and plugins put in it.

Dataset texts and labels, group names, model names, config values, plugin
messages and attack examples all reach the page. Hostile payloads are seeded
everywhere and the rendered file is parsed with the standard library's
HTMLParser to check that none of them became markup:

* no ``<script>`` (or other active) element and no ``on*`` event-handler attribute;
* every URL (``href``, ``src``, ``action``, ``formaction``, ``xlink:href``, CSS
  ``url()``...) is a ``#`` anchor or, on an image, a ``data:image/...`` image;
  the only ``http-equiv`` meta is the Content-Security-Policy;
* Jinja never evaluates data as a template (``{{ 7*7 }}`` shows literally,
  never as ``49``);
* no NUL or other C0 control character, and no raw bidirectional control
  (Trojan-Source): those are shown as a visible ``\\u202e`` escape instead;
* a 100k-character line without spaces is wrappable (``overflow-wrap``);
* adding a payload to a field never changes the page's element structure.

Matplotlib charts are allowed exactly as they are drawn: inline ``<svg>`` with
``xlink:href="#..."`` references, ``url(#...)`` clip paths and
``data:image/png`` images.
"""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable

import pytest

from conftest import run_cli, write_config

# ---------------------------------------------------------------- payloads

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
LONG = "A" * 100_000

PAYLOADS: dict[str, str] = {
    "script": "<script>alert(1)</script>",
    "attribute-breakout": '"><img src=x onerror=alert(1)>',
    "single-quote-breakout": "' onmouseover='alert(1)' x='",
    "svg-onload": "<svg onload=alert(1)><a xlink:href=\"javascript:alert(1)\">x</a></svg>",
    "jinja-expression": "{{ 7*7 }}",
    "jinja-raw": "{% raw %}raw{% endraw %}",
    "jinja-fragments": "{% endraw %}{# not a comment {% if true %}IF{% endif %}",
    "jinja-ssti": "{{ self.__init__.__globals__ }}{{ lipsum.__globals__ }}{{ config }}",
    "javascript-url": "javascript:alert(1)",
    "comment-cdata-breakout": "--><!-- ]]><script>alert(1)</script> </style></title></textarea>",
    "entities": "&lt;script&gt;alert(1)&lt;/script&gt; &#60;b&#62;",
    "css-url": "x;background:url(http://evil.example/x.png);}</style><style>*{background:url(//evil.example)}",
    "long-line": LONG,
    "bidi-controls": "admin" + "".join(c + "x" for c in BIDI) + "\u202egnp.exe",
    "nul-and-controls": "a\x00b\x01c\x08d\x0be\x0cf\x1bg\x7fh",
    "mathtext": "$\\alpha$ $$ \\$",
}

#: Control characters: C0 but tab, newline and carriage return, DEL and C1; each is shown as U+FFFD.
_CONTROLS_REPLACED = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {chr(c) for c in range(0x7F, 0xA0)}
#: Invisible format controls (bidi embeddings, overrides, isolates, direction marks, BOM): shown as ``\uXXXX``.
_FORMAT_SHOWN = set(BIDI) | {"\u200e", "\u200f", "\u061c", "\ufeff"}


def visible(text: str) -> str:
    """What a reviewer must see for ``text``: control characters as U+FFFD, format (bidi) controls as ``\\uXXXX``.

    Written independently of harness.text.sanitize, so the tests check it.
    """
    out = []
    for ch in text:
        if ch in _CONTROLS_REPLACED:
            out.append("\ufffd")
        else:
            out.append(f"\\u{ord(ch):04x}" if ch in _FORMAT_SHOWN else ch)
    return "".join(out)


def marked(field: str, payload: str) -> str:
    """The value put in one field: a field tag around the payload, so where it lands is known."""
    return f"{field}:{payload}|"


# ---------------------------------------------------------------- the checking parser

#: Elements no report needs and any of which would run code, load something, submit or navigate.
FORBIDDEN_ELEMENTS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "form", "input",
    "button", "textarea", "select", "portal", "foreignobject", "animate", "set", "animatemotion",
    "animatetransform", "handler", "listener", "noscript", "template", "slot", "math",
    # raw-text elements: a browser reads their content differently from this parser
    "xmp", "plaintext", "noembed", "noframes",
})

#: Attributes whose value is a URL the browser may fetch or navigate to.
URL_ATTRIBUTES = frozenset({
    "href", "src", "srcset", "action", "formaction", "xlink:href", "poster", "background", "data", "ping",
    "cite", "longdesc", "manifest", "codebase", "archive", "lowsrc", "dynsrc", "usemap", "icon", "imagesrcset",
})

#: Attributes whose value is CSS (or an SVG presentation attribute that takes ``url()``).
CSS_ATTRIBUTES = frozenset({
    "style", "clip-path", "mask", "filter", "fill", "stroke", "marker-start", "marker-mid", "marker-end", "cursor",
})

DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*\Z", re.I)
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param", "base"})


def _normalise_url(value: str) -> str:
    # what a browser does before looking at the scheme: trim, drop tab/CR/LF anywhere
    return re.sub(r"[\t\n\r]", "", value).strip(" \x00\x0c").lower()


def url_allowed(value: str, tag: str) -> bool:
    url = _normalise_url(value)
    if url.startswith("#"):
        return True
    return tag in {"img", "image"} and bool(DATA_IMAGE.match(url))


def css_problems(css: str) -> list[str]:
    problems = []
    for match in CSS_URL.finditer(css):
        target = _normalise_url(match.group(2))
        if not (target.startswith("#") or DATA_IMAGE.match(target)):
            problems.append(f"CSS url() to {target[:80]!r}")
    lowered = css.lower()
    for bad in ("@import", "expression(", "javascript:", "-moz-binding", "behavior:"):
        if bad in lowered:
            problems.append(f"CSS contains {bad!r}")
    if re.search(r"url\s*\(", lowered) and not CSS_URL.search(css):
        problems.append("CSS url( that could not be parsed")
    return problems


class ReportAudit(HTMLParser):
    """Collects every element, attribute, text node and stylesheet, and every violation."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.structure: list[tuple[str, tuple[str, ...]]] = []
        self.texts: list[str] = []  # text nodes outside <svg>, <style> and <head>
        self.svg_texts: list[str] = []
        self.styles: list[str] = []
        self.csp: list[str] = []
        self.stack: list[tuple[str, frozenset[str]]] = []
        self.wrapping_contexts: list[tuple[tuple[str, frozenset[str]], ...]] = []

    # -- elements
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)
        if tag not in VOID:
            classes = frozenset((dict(attrs).get("class") or "").split())
            self.stack.append((tag, classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.structure.append((tag, tuple(sorted(name for name, _ in attrs))))
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and "http-equiv" in values:
            if values["http-equiv"].lower() != "content-security-policy":
                self.problems.append(f"<meta http-equiv={values['http-equiv']!r}>")
            else:
                self.csp.append(values.get("content", ""))
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name in URL_ATTRIBUTES and not url_allowed(value, tag):
                self.problems.append(f"{name}={value[:80]!r} on <{tag}>")
            if name in CSS_ATTRIBUTES or value.lstrip().lower().startswith("url("):
                self.problems += [f"{p} in {name}= on <{tag}>" for p in css_problems(value)]
            if name == "http-equiv" and tag != "meta":
                self.problems.append(f"http-equiv on <{tag}>")

    # -- content
    def handle_data(self, data: str) -> None:
        tags = [t for t, _ in self.stack]
        if tags and tags[-1] == "style":
            self.styles.append(data)
            self.problems += [f"{p} in <style>" for p in css_problems(data)]
            if "<" in data:  # inside <svg> a browser parses <style> content as markup (mXSS): allow none
                self.problems.append(f"markup-like '<' inside <style>: {data[data.index('<'):][:60]!r}")
        elif "svg" in tags:
            self.svg_texts.append(data)
        elif "head" not in tags or tags[-1] == "title":
            self.texts.append(data)
            if re.search(r"\S{1000,}", data) and "head" not in tags:
                self.wrapping_contexts.append(tuple(self.stack))

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data[:40]}")

    def unknown_decl(self, data: str) -> None:
        if not data.upper().startswith("CDATA["):
            self.problems.append(f"unknown declaration <![{data[:40]}")

    @property
    def text(self) -> str:
        return "\uffff".join(self.texts)


def audit(html: str) -> ReportAudit:
    parser = ReportAudit()
    parser.feed(html)
    parser.close()
    return parser


def raw_problems(html: str) -> list[str]:
    """Checks on the bytes themselves, independent of how a parser tokenises them."""
    problems = []
    if re.search(r"<\s*script", html, re.I):
        problems.append("'<script' in the raw HTML")
    for ch in sorted(_CONTROLS_REPLACED):
        if ch in html:
            problems.append(f"raw control character U+{ord(ch):04X} at offset {html.index(ch)}: {html[max(0, html.index(ch) - 60):html.index(ch) + 20]!r}")
    for ch in BIDI:
        if ch in html:
            at = html.index(ch)
            problems.append(f"raw bidi control U+{ord(ch):04X} at offset {at}: {html[max(0, at - 60):at + 20]!r}")
    return problems


def assert_safe(html: str) -> ReportAudit:
    parsed = audit(html)
    problems = raw_problems(html) + parsed.problems
    assert not problems, "unsafe report:\n" + "\n".join(dict.fromkeys(problems))
    assert len(parsed.csp) == 1, f"expected exactly one Content-Security-Policy meta, got {parsed.csp}"
    policy = parsed.csp[0]
    assert "default-src 'none'" in policy and "script-src 'none'" in policy, policy
    return parsed


# ---------------------------------------------------------------- the wrapping check (long lines)

def _css_rules(css: str) -> Iterable[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    # drop at-rule blocks (@media print {...}): what matters is the screen layout
    out, depth, i = [], 0, 0
    while i < len(css):
        if depth == 0 and css.startswith("@", i):
            brace = css.find("{", i)
            semi = css.find(";", i)
            if semi != -1 and (brace == -1 or semi < brace):
                i = semi + 1
                continue
            depth, i = 1, brace + 1
            while depth and i < len(css):
                depth += {"{": 1, "}": -1}.get(css[i], 0)
                i += 1
            continue
        out.append(css[i])
        i += 1
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", "".join(out)):
        yield selectors, body


def _wraps(body: str) -> bool:
    body = body.lower().replace(" ", "")
    return any(d in body for d in ("overflow-wrap:anywhere", "word-break:break-all", "overflow:auto", "overflow-x:auto", "overflow:scroll", "overflow-x:scroll"))


def _matches(compound: str, element: tuple[str, frozenset[str]]) -> bool:
    tag, classes = element
    compound = compound.replace(":root", "html")
    if compound == "*":
        return True
    m = re.fullmatch(r"([a-z][a-z0-9-]*)?((?:\.[\w-]+)*)", compound)
    if not m:
        return False
    return (m.group(1) in (None, tag)) and set(re.findall(r"\.([\w-]+)", m.group(2))) <= classes


def unwrappable_places(parsed: ReportAudit) -> list[str]:
    """Where a very long unbroken text sits with no ancestor allowed to wrap it anywhere.

    Only the last compound of each selector is matched (``.extra svg`` counts as
    ``svg``): an over-approximation, good enough to see a missing rule.
    """
    wrapping = [
        compound
        for selectors, body in _css_rules("\n".join(parsed.styles)) if _wraps(body)
        for selector in selectors.split(",")
        for compound in [re.split(r"[\s>+~]+", selector.strip())[-1]]
    ]
    places = []
    for context in parsed.wrapping_contexts:
        if not any(_matches(c, element) for element in context for c in wrapping):
            places.append(" > ".join(t + "".join("." + c for c in sorted(k)) for t, k in context))
    return sorted(set(places))


# ---------------------------------------------------------------- a hand-built result with payloads everywhere

def build_result(payload: str) -> Any:
    from harness.results.types import AuditResult, CheckResult, Metric, ThresholdOutcome
    from harness.stats.intervals import Interval

    def m(field: str) -> str:
        return marked(field, payload)

    labels = [m("label-a"), m("label-b")]
    interval = Interval(low=0.8, high=0.95, level=0.95, method=m("interval-method"))
    common = {"n": 240, "labels": labels, "split": m("evidence-split")}
    bins = [
        {"lower": i / 5, "upper": (i + 1) / 5, "count": 0 if i < 2 else 10 * i, "mean_confidence": None if i < 2 else i / 5 + 0.1, "accuracy": None if i < 2 else i / 5 + 0.05}
        for i in range(5)
    ]
    checks = (
        CheckResult(
            id="accuracy.accuracy", title=m("title"), status="fail", message=m("message"),
            metrics=(Metric(m("metric-name"), 0.61, interval, m("metric-description")), Metric("balanced_accuracy", 0.6, interval)),
            thresholds=(ThresholdOutcome(m("threshold-metric"), "min", 0.7, 0.61, "fail"),),
            evidence={**common, "confusion_matrix": [[100, 44], [50, 46]], "limitations": [m("evidence-limitation")]},
            regulations=("EU AI Act Art. 15(1)", m("regulation")), plugin=m("check-plugin"), duration_s=0.5,
        ),
        CheckResult(
            id="accuracy.per_class", title="Per class", status="pass", message="ok",
            metrics=(Metric("min_class_recall", 0.6, interval),),
            evidence={**common, "per_class": [
                {"label": labels[0], "precision": 0.7, "recall": 0.69, "f1": 0.7, "support": 144},
                {"label": labels[1], "precision": 0.51, "recall": 0.48, "f1": 0.5, "support": 96},
            ]},
            regulations=("NIST AI RMF MEASURE 2.3",), plugin="accuracy",
        ),
        CheckResult(
            id="accuracy.roc_auc", title="ROC-AUC", status="pass", message="ok",
            metrics=(Metric("roc_auc", 0.8, interval),),
            evidence={**common, "per_class_auc": {labels[0]: 0.8, labels[1]: 0.8},
                      "roc_curve": {"fpr": [0.0, 0.01, 0.1, 0.5, 1.0], "tpr": [0.0, 0.2, 0.6, 0.9, 1.0], "positive_label": m("positive-label")}},
            plugin="accuracy",
        ),
        CheckResult(
            id="accuracy.calibration", title="Calibration", status="warn", message="ok",
            metrics=(Metric("expected_calibration_error", 0.05, interval),),
            evidence={**common, "calibration": {"bins": bins, "ece": 0.05, "mce": 0.1}},
            plugin="accuracy", gated=False,
        ),
        CheckResult(
            id="robustness.attack", title=m("attack-title"), status="error", message=m("attack-message"),
            evidence={"examples": [{"original": m("attack-original"), "perturbed": m("attack-perturbed"), "label": labels[0]}]},
            plugin=m("attack-plugin"),
        ),
    )
    split = {"size": 240, "fingerprint": m("fingerprint"), "label_counts": {labels[0]: 144, labels[1]: 96}}
    provenance = {
        "config": {"model": {"path": m("config-model-path"), "fine_tune": {"epochs": 2, "note": m("config-note")}},
                   "data": {"path": m("config-data-path"), "label_names": labels}, "suite": m("config-suite"), "seed": 0},
        "config_sha256": m("config-sha256"),
        "config_source": m("config-source"),
        "data": {
            "description": m("data-description"), "eval_split": "test", "label_names": labels,
            "sensitive_columns": [m("sensitive-column"), "sex"], "source": m("data-source"),
            "splits": {"test": split, m("split-name"): {**split, "size": 10}}, "synthetic": True,
        },
        "fine_tuning": {
            "best_epoch": 1, "epochs_run": 2, "method": m("fine-tune-method"), "seconds": 1.0, "stopped_early": False, "train_examples": 40,
            "history": [{"epoch": 1, "seconds": 1.0, "train_loss": 0.6, "validation_accuracy": 0.5, "validation_loss": 0.7}],
            "settings": {"epochs": 2, "lr": 0.002, m("setting-name"): m("setting-value")},
        },
        "git": {"commit": m("git-commit"), "dirty": True},
        "model": {
            "architecture": m("architecture"), "device": "cpu", "label_names": labels, "max_length": 128, "model_type": m("model-type"),
            "num_labels": 2, "num_parameters": 137090, "source": m("model-source"), "location": m("model-location"),
            "weights_digest_method": m("digest-method"), "weights_sha256": m("weights-sha256"),
        },
        "packages": {"audit-harness": m("harness-version"), m("package-name"): m("package-version"), "jinja2": "3.1.6"},
        "plugin_failures": [{"name": m("failed-plugin"), "stage": m("failed-stage"), "error": m("plugin-error")}],
        "plugins": [{"builtin": False, "checks": ["robustness.attack"], "hooks": ["harness_register_checks"], "module": m("plugin-module"),
                     "name": m("plugin-name"), "source": m("plugin-source"), "version": m("plugin-version")}],
        "available_checks": {"accuracy.accuracy": m("available-title"), "fairness.parity": m("available-title-2")},
        "seed": 0,
        "suite": {"name": m("suite-name"), "source": m("suite-source"), "description": m("suite-description")},
    }
    run = {"device": m("run-device"), "duration_s": 3.5, "started_at": m("started-at"), "finished_at": m("finished-at"),
           "machine": {"hostname": m("hostname"), "platform": m("platform"), "cpu_count": 2}, "output_dir": m("output-dir")}
    return AuditResult(verdict="fail", exit_code=1, checks=checks, provenance=provenance,
                       predictor={"forward_texts": 240, "cache_hits": 0}, run=run)


#: Fields a reviewer must be able to read in the page (outside the charts): the test only means
#: something if the payload really reaches the HTML there.
MUST_SHOW = (
    "title", "message", "metric-name", "threshold-metric", "regulation", "label-a", "label-b", "positive-label",
    "model-source", "data-source", "data-description", "sensitive-column", "split-name", "setting-value",
    "git-commit", "package-name", "plugin-name", "plugin-error", "evidence-limitation", "attack-message",
)


def render(result: Any) -> str:
    from harness.plugin.manager import get_host
    from harness.outputs.html import render_html

    return render_html(result, get_host())


@pytest.fixture(scope="module")
def baseline_structure() -> list[tuple[str, tuple[str, ...]]]:
    html = render(build_result("benign"))
    assert_safe(html)
    return audit(html).structure


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_payload_in_every_field_stays_text(name: str, baseline_structure: list[tuple[str, tuple[str, ...]]]) -> None:
    payload = PAYLOADS[name]
    html = render(build_result(payload))
    parsed = assert_safe(html)

    text = parsed.text
    shown = visible(payload)
    missing = [f for f in MUST_SHOW if marked(f, shown) not in text]
    assert not missing, f"payload {name!r} not shown literally (as {shown[:60]!r}) for fields: {missing}"
    if name == "jinja-expression":
        assert ":49|" not in text and ":49|" not in html, "Jinja evaluated {{ 7*7 }} taken from the data"
    if name in ("bidi-controls",):
        assert "\\u202e" in text  # shown, visibly, where the override was

    # The payload changed no element: same tags with the same attribute names, in the same order.
    structure = parsed.structure
    if structure != baseline_structure:
        import difflib

        diff = "\n".join(list(difflib.unified_diff([repr(s) for s in baseline_structure], [repr(s) for s in structure], lineterm="", n=1))[:40])
        pytest.fail(f"payload {name!r} changed the page's element structure:\n{diff}")


def test_long_unbroken_lines_can_wrap() -> None:
    """A 100k-character 'word' must not widen the page: every place it lands may wrap anywhere."""
    parsed = assert_safe(render(build_result(PAYLOADS["long-line"])))
    assert parsed.wrapping_contexts, "the long payload did not reach the page at all"
    places = unwrappable_places(parsed)
    assert not places, "long unbroken text in elements without overflow-wrap: anywhere (add it to body):\n" + "\n".join(places)


def test_charts_are_inline_svg_with_only_local_references() -> None:
    """The checker allows charts exactly as drawn; make sure the charts really are in the page as SVG."""
    html = render(build_result(PAYLOADS["script"]))
    parsed = assert_safe(html)
    tags = {tag for tag, _ in parsed.structure}
    assert "svg" in tags, "no inline <svg> chart in the report (charts escaped as text, or dropped?)"
    assert "&lt;svg" not in html, "an SVG chart was autoescaped into text instead of being inlined"
    # chart labels are cleaned too (truncated, so look for the start of the payload)
    svg_text = "".join(parsed.svg_texts)
    assert "label-a:<script>" in svg_text


def test_checker_rejects_what_it_must() -> None:
    """The checker itself: it must catch each kind of markup injection and allow exactly the charts' forms."""
    base = '<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'none\'"></head><body>{}</body></html>'
    bad = [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVa\tScRiPt:alert(1)">x</a>',
        '<a href="https://evil.example/">x</a>',
        '<form action="https://evil.example/"></form>',
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        '<svg><image xlink:href="data:image/svg+xml;base64,AAAA"/></svg>',
        '<a href="data:image/png;base64,AAAA">x</a>',
        '<div style="background:url(http://evil.example/x.png)">x</div>',
        "<style>@import 'x.css';</style>",
        '<svg><g clip-path="url(http://evil.example/#p)"></g></svg>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        "<iframe srcdoc='x'></iframe>",
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        "a\x00b",
        "a\u202eb",
    ]
    for fragment in bad:
        html = base.format(fragment)
        assert raw_problems(html) + audit(html).problems, f"checker missed: {fragment!r}"
    good = (
        '<a href="#verdict">x</a><svg role="img" aria-label="t"><defs><path id="m1" d="M0 0"/></defs>'
        '<g clip-path="url(#p1)"><use xlink:href="#m1" x="1" y="2"/></g>'
        '<image xlink:href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>'
        '<style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style></svg>'
        '<p>&lt;script&gt;alert(1)&lt;/script&gt; onerror=alert(1) javascript:alert(1) \\u202e</p>'
    )
    assert_safe(base.format(good))


# ---------------------------------------------------------------- harness.text.sanitize (the finalize hook)

def test_clean_text_replaces_controls_and_shows_bidi() -> None:
    from harness.text.sanitize import clean_text

    assert clean_text("plain text, \u00e9\u00e8 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627") == "plain text, \u00e9\u00e8 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"
    assert clean_text("tab\tnl\ncr\r") == "tab\tnl\ncr\r"
    for payload in PAYLOADS.values():
        assert clean_text(payload) == visible(payload)
    assert clean_text("a\u202eb") == "a\\u202eb"
    assert clean_text("".join(BIDI)) == "".join(f"\\u{ord(c):04x}" for c in BIDI)


def test_finalize_cleans_strings_only_and_is_wired_into_the_report_environment() -> None:
    from markupsafe import Markup

    from harness.outputs.html import make_environment
    from harness.text.sanitize import finalize

    assert finalize("a\x00\u202eb") == "a\ufffd\\u202eb"
    trusted = Markup("<b>\u202e</b>")
    assert finalize(trusted) is trusted
    assert finalize(3) == 3 and finalize(None) is None
    env = make_environment()
    assert env.finalize is finalize
    out = env.from_string("<p title=\"{{ v }}\">{{ v }}</p>{{ v | upper }}").render(v="x\x00\u202e{{ 7*7 }}<b>")
    assert out == '<p title="x\ufffd\\u202e{{ 7*7 }}&lt;b&gt;">x\ufffd\\u202e{{ 7*7 }}&lt;b&gt;</p>X\ufffd\\u202e{{ 7*7 }}&lt;B&gt;'


# ---------------------------------------------------------------- end to end: hostile CSV through the real CLI

E2E_LABELS = ("<script>alert(1)</script>", "{{ 7*7 }}")
SENSITIVE = 'group"><img src=x onerror=alert(1)>'


def _hostile_csv(path: Path, rows: int = 60) -> None:
    texts = [p for k, p in PAYLOADS.items() if k != "nul-and-controls"]  # a NUL makes the CSV "binary": rejected by design
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label", SENSITIVE])
        for i in range(rows):
            label = E2E_LABELS[i % 2]
            word = "fever chest pain" if i % 2 else "routine refill"
            text = f"{word} {texts[i % len(texts)]} \x1b\u202e {i}"
            writer.writerow([f"{PAYLOADS['attribute-breakout']}-{i}", text, label, PAYLOADS["bidi-controls"] if i % 3 else PAYLOADS["script"]])


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    data = folder / "notes{{ 7*7 }}<img src=x onerror=alert(1)>\u202e.csv"
    _hostile_csv(data)
    config = write_config(folder, {
        "model": {"path": "builtin:tiny-bert", "fine_tune": {"epochs": 2, "batch_size": 16, "note": PAYLOADS["script"] + PAYLOADS["jinja-expression"] + "\u202e"}},
        "data": {"path": data.name, "id": "id", "sensitive": [SENSITIVE], "split": {"train": 0.5, "validation": 0.2, "test": 0.3}},
        "seed": 0,
        "output": {"dir": "out"},
    }, name="audit{{ 7*7 }}.yaml")
    cli = run_cli("run", str(config), cwd=folder)
    assert (folder / "out" / "report.html").is_file(), cli.stderr + cli.stdout
    assert cli.returncode in (0, 1), cli.stderr + cli.stdout  # pass or fail: the tiny model on 60 rows may miss thresholds
    return folder


def test_hostile_dataset_end_to_end(hostile_run: Path) -> None:
    html = (hostile_run / "out" / "report.html").read_text(encoding="utf-8")
    parsed = assert_safe(html)
    text = parsed.text
    for label in E2E_LABELS:
        assert label in text, f"label {label!r} not shown literally"
    assert visible(SENSITIVE) in text
    assert "notes{{ 7*7 }}<img src=x onerror=alert(1)>\\u202e.csv" in text, "data source (file name) not shown, or not neutralised"
    results = json.loads((hostile_run / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["provenance"]["data"]["label_names"] == list(E2E_LABELS)
    places = unwrappable_places(parsed)
    assert not places, "long unbroken text without overflow-wrap: anywhere:\n" + "\n".join(places)


def test_hostile_report_rerenders_byte_identical(hostile_run: Path) -> None:
    cli = run_cli("report", "out/results.json", "-o", "again.html", cwd=hostile_run)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    assert (hostile_run / "again.html").read_bytes() == (hostile_run / "out" / "report.html").read_bytes()


# ---------------------------------------------------------------- harness report on a crafted results.json

SSTI = (
    "{{ 7*7 }}",
    "{{ config.items() }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{% include 'report.html' %}",
    "{% raw %}",
    "{% endraw %}",
    "{#",
    "${7*7}",
    "#{7*7}",
)


def test_report_command_never_evaluates_evidence(tmp_path: Path) -> None:
    from harness.fileio import dump_json

    payload = "".join(f"[{s}]" for s in SSTI)
    result = build_result(payload)
    path = tmp_path / "results.json"
    path.write_text(dump_json(result.to_dict()), encoding="utf-8")
    cli = run_cli("report", str(path), "-o", str(tmp_path / "page.html"), cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr + cli.stdout
    html = (tmp_path / "page.html").read_text(encoding="utf-8")
    parsed = assert_safe(html)
    text = parsed.text
    for field in ("label-a", "positive-label", "evidence-limitation", "title", "message"):
        assert marked(field, payload) in text, f"{field}: payload not shown literally"
    assert "[49]" not in text and "uid=" not in html
    assert html.count("<!DOCTYPE") == 1, "a template was included from data"
