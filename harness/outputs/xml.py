"""Building XML for the machine outputs (JUnit): text XML 1.0 can carry, and elements built with ElementTree.

Every text and attribute goes through :func:`xml_safe` first: XML 1.0 cannot
carry most control characters even as character references, so arbitrary
dataset or plugin text must never reach a file unfiltered. Documents are built
with :mod:`xml.etree.ElementTree` (never by string concatenation).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Iterable, Mapping

__all__ = ["XML_DECLARATION", "REPLACEMENT", "xml_safe", "sub_element", "add_properties", "document"]

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
REPLACEMENT = "\ufffd"

# Everything XML 1.0 forbids: C0 controls except tab/LF/CR, surrogates (lone
# ones can come out of JSON "\ud800"), and the non-characters U+FFFE/U+FFFF.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: Any) -> str:
    """``value`` as text that XML 1.0 can carry: forbidden characters become U+FFFD."""
    text = value if isinstance(value, str) else str(value)
    return _INVALID_XML.sub(REPLACEMENT, text)


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
