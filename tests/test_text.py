"""The text layer: one sanitising policy (per output kind) and one number format for every output."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from harness.text import numbers, sanitize

RLO = "\u202e"
NUL = "\x00"


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                                     "\u200e", "\u200f", "\u061c", "\ufeff"])
def test_every_format_control_is_shown_as_its_escape_in_every_output(control: str) -> None:
    visible = f"\\u{ord(control):04x}"
    text = f"approve{control}gnp"
    assert sanitize.neutralize(text) == f"approve{visible}gnp"
    assert sanitize.finalize(text) == f"approve{visible}gnp"
    assert sanitize.one_line(text) == f"approve{visible}gnp"
    assert sanitize.xml_text(text) == f"approve{visible}gnp"
    assert "u" + f"{ord(control):04x}" in sanitize.markdown_text(text)  # escaped backslash, same escape
    assert control not in sanitize.markdown_text(text)


@pytest.mark.parametrize("control", [NUL, "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x80", "\x9f", "\ud800", "\ufffe", "\uffff"])
def test_control_characters_become_the_replacement_character(control: str) -> None:
    assert sanitize.neutralize(f"a{control}b") == "a\ufffdb"
    assert sanitize.xml_text(f"a{control}b") == "a\ufffdb"


def test_every_sanitiser_output_is_well_formed_xml() -> None:
    nasty = "".join(chr(c) for c in range(0x00, 0xA0)) + RLO + "\ud800\ufffe"
    element = ET.Element("t", {"a": sanitize.xml_text(nasty)})
    element.text = sanitize.xml_text(nasty)
    ET.fromstring(ET.tostring(element, encoding="unicode"))  # raises when not well-formed


def test_ordinary_text_is_left_exactly_as_it_is() -> None:
    for text in ["plain", "Müller café", "مرحبا", "שלום", "紧急 非紧急", "tab\tand\nnewline\r"]:
        assert sanitize.neutralize(text) is text or sanitize.neutralize(text) == text


def test_one_line_and_markdown_put_text_on_one_line_with_a_limit() -> None:
    assert sanitize.one_line("a\nb\r\n\tc   d") == "a b c d"
    assert sanitize.one_line("x" * 50, 10) == "x" * 9 + "\u2026"
    assert sanitize.markdown_text("see http://evil.example and @team | *bold*") == (
        "see hxxp://evil.example and @\u200bteam \\| \\*bold\\*"
    )


def test_finalize_leaves_markup_and_non_strings_alone() -> None:
    from markupsafe import Markup

    markup = Markup("<b>x\x00</b>")
    assert sanitize.finalize(markup) is markup
    assert sanitize.finalize(3) == 3 and sanitize.finalize(None) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.925, "0.925"), (0.92549, "0.925"), (0.0, "0.000"), (1, "1"), (42, "42"), (1.5e-5, "1.5e-05"), (0.00099, "0.00099"),
     (123456.0, "1.23e+05"), (-0.25, "-0.250"), (None, "n/a"), (math.nan, "n/a"), (math.inf, "n/a"), (True, "n/a"), ("x", "n/a")],
)
def test_the_one_number_format(value: object, shown: str) -> None:
    assert numbers.format_number(value) == shown


def test_intervals_limits_changes_and_p_values() -> None:
    assert numbers.format_interval(0.0789, 0.35111) == "[0.079, 0.351]"
    assert numbers.format_limit(0.1) == "0.1" and numbers.format_limit(0.8) == "0.8" and numbers.format_limit(None) == "n/a"
    assert numbers.format_signed(0.012) == "+0.012" and numbers.format_signed(-0.25) == "-0.250"
    assert numbers.format_p(0.03123) == "0.0312" and numbers.format_p(1e-7) == "<1e-4"


def test_a_gate_sentence_uses_the_one_format() -> None:
    from harness.results.types import ThresholdOutcome

    outcome = ThresholdOutcome("demographic_parity_difference", "max", 0.1, 0.19912, "inconclusive", "interval", (0.0, 0.42713), 182, 45)
    assert "[0.000, 0.427]" in outcome.sentence and "0.1" in outcome.sentence
    assert outcome.comparison == "demographic_parity_difference = 0.199 [0.000, 0.427] <= 0.1"
