"""Building XML for the machine outputs (JUnit): text XML 1.0 can carry, and elements built with ElementTree.

Every text and attribute goes through :func:`xml_safe` first: XML 1.0 cannot
carry most control characters even as character references, so arbitrary
dataset or plugin text must never reach a file unfiltered. Documents are built
with :mod:`xml.etree.ElementTree` (never by string concatenation).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Iterable, Mapping

from harness.text.sanitize import xml_text

__all__ = ["XML_DECLARATION", "xml_safe", "sub_element", "add_properties", "document"]

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


def xml_safe(value: Any) -> str:
    """``value`` as text that XML 1.0 can carry, under the one sanitising policy (:func:`harness.text.sanitize.xml_text`)."""
    return xml_text(value)


def sub_element(parent: ET.Element, tag: str, attrib: Mapping[str, Any] | None = None, text: str | None = None) -> ET.Element:
    """A child element of ``parent``, its attributes and text made :func:`xml_safe`."""
    element = ET.SubElement(parent, tag, {key: xml_safe(val) for key, val in (attrib or {}).items()})
    if text:
        element.text = xml_safe(text)
    return element


def add_properties(parent: ET.Element, items: Iterable[tuple[str, Any]]) -> None:
    """A JUnit ``<properties>`` block of ``<property name= value=>`` (nothing when ``items`` is empty)."""
    items = list(items)
    if not items:
        return
    properties = sub_element(parent, "properties")
    for name, value in items:
        sub_element(properties, "property", {"name": name, "value": value})


def document(root: ET.Element) -> str:
    """``root`` indented by two spaces, as a complete document: declaration first, newline-terminated."""
    ET.indent(root, space="  ")
    return XML_DECLARATION + "\n" + ET.tostring(root, encoding="unicode") + "\n"
