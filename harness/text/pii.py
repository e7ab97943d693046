"""Detectors of personal data in free text, and masking with typed placeholders.

One job: find spans of personal data in a string.  It lives in the core
because every plugin that puts data-derived text into results or the report
must mask it (``RunContext.redact``, on unless ``output.redact_pii: false``):
robustness examples, counterfactual swaps, membership-inference exposures.
The privacy plugin's ``privacy.pii`` check counts the spans, ``harness
anonymize`` replaces them with ``[EMAIL]``, ``[PHONE]``...

How each kind is found, and why
-------------------------------
Patterns find candidates; a validator then rejects look-alikes, so that random
numbers in clinical text (vitals, doses, record ids) are not reported:

``email``   RFC-5322-ish local part, a dotted domain with a 2+ letter TLD.
``card``    13-19 digits, optionally grouped by one kind of separator (space or
            dash), that pass the Luhn checksum and are not all one digit.
``iban``    country code, 2 check digits, BBAN; the length must match the
            country's (table below) and the ISO 13616 mod-97 remainder must be 1.
``ssn``     US SSN ``AAA-GG-SSSS`` (dash or space separated, or bare 9 digits
            right after "SSN"): area not 000, 666 or 9xx, group not 00,
            serial not 0000.
``ip``      IPv4 with every octet <= 255 (not part of a longer dotted run, so
            version strings like ``1.2.3.4.5`` do not count) and IPv6 as parsed by
            :mod:`ipaddress` (needs ``::`` or 8 groups, so times like
            ``10:30:00`` are not addresses).
``mrn``     medical record numbers: 6-10 digits (optionally 1-3 letters first)
            right after "MRN", "MRN#", "MRN no.", "medical record number"...
            Only the number is masked, the label stays readable.
``dob``     a date (numeric ``d/m/y``, ``y-m-d``, or with a month name) *only*
            when "DOB", "D.O.B.", "date of birth", "birth date" or "born"
            precedes it.  Decision: other dates (admission, symptom onset) are
            not flagged, because on their own they rarely identify a person and
            flagging every date would drown the real findings in clinical notes.
``phone``   E.164 (``+`` country code) or national numbers written in digit
            groups (``555-0177``, ``(617) 555-0177``, ``020 7946 0958``), or a bare
            7-15 digit run right after "tel", "phone", "ph", "mobile"...; 7-15
            digits in all.  Shapes that are something else are refused: dates,
            SSN-shaped ``3-2-4`` groups, IPv4-shaped dotted quads,
            amounts in thousands (``10 000 000``), year ranges (``2015-2018``), and
            13+ digits without ``+`` (card-like).
``name``    three sources, all case-sensitive and on word boundaries so that
            ordinary words are not flagged: (1) the names passed in
            (``names:`` / ``names_file:`` of the check, ``--names`` of
            ``harness anonymize``); (2) a capitalised name after a lead such as
            "Patient", "Pt", "Name:", "Mr", "Mrs", "Dr"; (3) a bundled list of
            ~430 common given names from many cultures (:data:`COMMON_FIRST_NAMES`),
            plus the capitalised surname that follows one.  The bundled list
            is a heuristic, not a census: it leaves out names that are also
            common English words or months (May, June, Will, Grace, Hope...),
            which the other two sources still catch in context.

Overlaps are resolved by specificity, then length: checksum-validated kinds
(email, iban, card, ssn, ip) beat context kinds (mrn, dob) which beat the
loosest ones (phone, name); among equals the longer span wins.

Speed: all patterns are compiled once; a text without a digit, an ``@`` or a
capital letter skips every detector (the fast path), so 10k short notes scan in
well under a second.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ALL_KINDS",
    "COMMON_FIRST_NAMES",
    "PLACEHOLDERS",
    "PiiMatch",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "mask_matches",
    "mask_text",
    "ssn_valid",
    "token_pii_kind",
]

#: Every kind, in the order reports list them.
ALL_KINDS: tuple[str, ...] = ("name", "email", "phone", "mrn", "ssn", "card", "iban", "ip", "dob")
#: Kind -> typed placeholder that replaces the value when masking.
PLACEHOLDERS: dict[str, str] = {
    "name": "[NAME]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "mrn": "[MRN]",
    "ssn": "[SSN]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "ip": "[IP]",
    "dob": "[DOB]",
}
# Lower wins when spans overlap (see module docstring).
_TIER: dict[str, int] = {
    "email": 0, "iban": 0, "card": 0, "ssn": 0, "ip": 0,
    "mrn": 1, "dob": 1,
    "phone": 2, "name": 2,
}


@dataclass(frozen=True)
class PiiMatch:
    """One detected span: ``text[start:end]`` is the raw value (never report it)."""

    kind: str
    start: int
    end: int

    def value(self, text: str) -> str:
        return text[self.start:self.end]


# --------------------------------------------------------------------------
# Validators
# --------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) checksum of a string of digits."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


#: IBAN length per country (ISO 13616 registry, SWIFT release of 2023).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def iban_valid(iban: str) -> bool:
    """Country length and ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    s = iban.replace(" ", "").upper()
    if len(s) < 5 or IBAN_LENGTHS.get(s[:2]) != len(s) or not s[2:4].isdigit() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: no 000/666/9xx area, no 00 group, no 0000 serial."""
    return not (area == "000" or area == "666" or area[0] == "9" or group == "00" or serial == "0000")


def _ipv4_valid(s: str) -> bool:
    return all(int(o) <= 255 and (o == "0" or not o.startswith("0")) for o in s.split("."))


def _ipv6_valid(s: str) -> bool:
    if "::" not in s and s.count(":") != 7:
        return False
    if not any(c not in ":" for c in s):
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9


def _plausible_date(day: int, month: int, year: int) -> bool:
    if year < 100:
        year += 1900
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1] and 1880 <= year <= 2100


def _date_valid(text: str) -> bool:
    """A numeric date valid as d/m/y or m/d/y or y-m-d; a named-month date with a real day."""
    nums = re.findall(r"\d+", text)
    word = re.search(r"[A-Za-z]+", text)
    if word:
        month = _MONTHS.get(word.group(0).lower().rstrip("."))
        if month is None or len(nums) != 2:
            return False
        a, b = int(nums[0]), int(nums[1])
        day, year = (a, b) if b > 31 else (b, a)
        return _plausible_date(day, month, year)
    if len(nums) != 3:
        return False
    a, b, c = (int(n) for n in nums)
    if len(nums[0]) == 4:
        return _plausible_date(c, b, a)
    return _plausible_date(a, b, c) or _plausible_date(b, a, c)


# --------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,31}")
_IBAN_PREFIX = re.compile(r"\b[A-Z]{2}\d{2} $")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_SSN_BARE = re.compile(r"\b(?:SSN|[Ss]ocial [Ss]ecurity (?:[Nn]o\.?|[Nn]umber))\s*(?:#|:)?\s*(\d{3})(\d{2})(\d{4})\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?![\w])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_MRN = re.compile(
    r"\b(?:MRN|[Mm]edical [Rr]ecord (?:[Nn]umber|[Nn]o\.?|#)|[Mm]ed\.? [Rr]ec\.? (?:[Nn]o\.?|#))"
    r"\s*(?:#|[Nn]o\.|[Nn]umber|:)?\s*:?\s*([A-Z]{0,3}\d{6,10})\b"
)
_DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})"
    r"|\d{1,2}(?:st|nd|rd|th)? (?:of )?[A-Z][a-z]{2,8}\.?,? \d{4}"
    r"|[A-Z][a-z]{2,8}\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"
)
_DOB = re.compile(
    r"(?:\b(?:DOB|[Dd]ate of [Bb]irth|[Bb]irth ?[Dd]ate|[Bb]irthday|[Bb]orn(?: on)?)|\bD\.O\.B\.?)"
    r"\s*(?:[:=-]|is|was)?\s*(" + _DATE + r")(?!\d)"
)
_PHONE_GROUPED = re.compile(
    r"(?<![\w+/.-])(\+\d{1,3}[ .-]?)?(\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w/-]|\.\d)"
)
_PHONE_E164 = re.compile(r"(?<![\w+])\+\d{7,15}(?!\w)")
_PHONE_CONTEXT = re.compile(
    r"\b(?:[Tt]el|TEL|[Pp]hone|PHONE|[Pp]h|[Mm]obile|[Mm]ob|[Cc]ell|[Ff]ax|[Cc]all)\.?:?\s*(\d{7,15})\b"
)
_DATE_SHAPE = re.compile(r"\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}")
_SSN_SHAPE = re.compile(r"\d{3}[- ]\d{2}[- ]\d{4}")
_IPV4_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_THOUSANDS_SHAPE = re.compile(r"[1-9]\d{0,2}([ .])\d{3}(?:\1\d{3})*")
_YEAR_RANGE_SHAPE = re.compile(r"(?:1[89]|20)\d\d[-/](?:1[89]|20)\d\d")

_CAP_WORD = r"[A-Z][a-z]*(?:['\u2019-][A-Z]?[a-z]+)*"
_NAME_LEAD = re.compile(
    r"(?:(?P<weak>\b(?:[Pp]atient|[Pp]t\.?)\s*:?)|\b(?:[Pp]atient|[Pp]t\.?) [Nn]ame\s*:?|\b[Nn]ame\s*:"
    r"|\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof)\.?)"
    r"[ \t]+(?P<name>" + r"[A-Z][a-z]+(?:['\u2019-][A-Z]?[a-z]+)*" + r"(?:[ \t]+(?:[A-Z]\.[ \t]+)?" + _CAP_WORD + r"){0,3})"
)
# Capitalised words a lead may be followed by that are not names (e.g. "Patient Health Questionnaire").
_NOT_NAMES = frozenset(
    """Health Questionnaire Record Records Details Information Info Name Number No Id ID Portal
    History Notes Note Is Was Has Had Reports Reported Presents Presented Denies States Stated Says
    Arrived Attends Seen Said Refused Declined Lives Male Female Man Woman Boy Girl Patient Pt The A
    An And Or With Without Of In On At For To From By Unknown Not Also Is He She They His Her Their""".split()
)

#: Common given names from many cultures (a heuristic, see module docstring).
COMMON_FIRST_NAMES: frozenset[str] = frozenset(
    """
    James John Robert Michael David William Richard Joseph Thomas Charles Christopher Daniel Matthew
    Anthony Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason
    Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel
    Gregory Alexander Patrick Dennis Jerry Tyler Aaron Henry Douglas Peter Adam Nathan Zachary Walter
    Kyle Harold Carl Jeremy Keith Roger Gerald Ethan Arthur Terry Sean Lawrence Joe
    Noah Jesse Albert Bryan Billy Bruce Willie Dylan Alan Ralph Gabriel Roy Juan Wayne Eugene
    Logan Randy Louis Russell Vincent Philip Bobby Johnny Bradley Liam Oliver Elijah Lucas Mason Aiden
    Connor Brett Garrett Cody Wyatt Luke Owen Caleb Isaac Levi Mateo Oscar Harry Jack Charlie
    Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret
    Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca
    Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha
    Katherine Christine Debra Rachel Carolyn Janet Catherine Heather Diane Julie Joyce Kelly
    Christina Lauren Joan Evelyn Olivia Judith Megan Cheryl Martha Andrea Frances Hannah Jacqueline
    Gloria Teresa Sara Janice Julia Marie Madison Kathryn Abigail Sophia Isabella Charlotte Amelia Mia
    Harper Ella Chloe Claire Molly Lily Zoe Natalie Alice Ava Ellie Freya Isla Poppy Sienna
    Maria Lucia Sofia Camila Valentina Guadalupe Ximena Carmen Isabel Rosa Ana Elena Paula Daniela
    Gabriela Fernanda Mariana Alejandra Adriana Veronica Beatriz Pilar Esperanza Jose Carlos Luis
    Miguel Alejandro Javier Diego Santiago Pedro Manuel Francisco Antonio Jorge Ricardo Fernando
    Rafael Eduardo Sergio Andres Pablo Raul Enrique Alberto Emilio Joaquin Rodrigo
    Mei Priya Yuki Ananya Jia Hana Linh Sunita Aiko Sakura Haruka Yumi Keiko Xiu Ling Fang
    Anh Deepa Kavya Lakshmi Pooja Neha Divya Shreya Aarav Vivek Amit Rajesh Suresh Ravi
    Wei Arjun Hiroshi Minh Rahul Kenji Sanjay Takeshi Haruto Kaito Hao Jian Ming Tuan Duc Vikram
    Anil Sunil Ajay Rohan Kiran Arun Sandeep Manoj
    Aaliyah Imani Aisha Nia Amara Zola Adaeze Latoya Keisha Tanisha Ebony Shanice Aaliya Zainab Fatima
    Amina Chiamaka Ngozi Folake Abena Ama Akosua Wanjiru Thandiwe Nomvula Ayanna Jasmine
    Jamal Darnell Malik Tyrone DeShawn Kwame Emeka Andre Terrell Jermaine Lamar Marcus Reginald Darius
    Kofi Kwabena Chinedu Obinna Oluwaseun Tunde Babatunde Ikechukwu Jabari Kareem Rashad Tariq
    Mohammed Muhammad Ahmed Ali Omar Hassan Hussein Ibrahim Youssef Khalid Mustafa Yusuf Layla Noor
    Mariam Leila Yasmin Sara Hiba Rania Olga Irina Natalia Svetlana Tatiana Anastasia Dmitri Sergei
    Ivan Alexei Nikolai Vladimir Giulia Francesca Chiara Giuseppe Giovanni Marco Alessandro Lorenzo
    Hans Klaus Jurgen Wolfgang Stefan Katrin Sabine Ursula Ingrid Sven Lars Anders Erik Nils Astrid
    Sigrid Pierre Jean Jacques Francois Camille Chloé Margaux Sean Siobhan Aoife Niamh Ciara Declan
    Eoin Padraig Aidan
    """.split()
)


@lru_cache(maxsize=64)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Alternation of the given names (longest first), case-sensitive, on word boundaries."""
    cleaned = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternation = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in cleaned)
    return re.compile(r"(?<![\w'\u2019-])(?:" + alternation + r")(?![\w'\u2019-])")


# Capitalised tokens, looked up in the set of common names (an alternation of
# ~430 names would be tried at every position: several times slower).
_CAP_TOKEN = re.compile(r"(?<![\w'\u2019-])[A-Z][A-Za-z]+(?![\w'\u2019-])")
_SURNAME_AFTER = re.compile(r"[ \t]+(?:[A-Z]\.[ \t]+)?(" + _CAP_WORD + r")(?![\w'\u2019-])")


def _name_candidates(text: str, names: tuple[str, ...], use_common: bool) -> Iterable[PiiMatch]:
    pattern = _names_pattern(names)
    if pattern is not None:
        for m in pattern.finditer(text):
            end = m.end()
            # A configured first name followed by a capitalised surname: mask both.
            after = _SURNAME_AFTER.match(text, end)
            if after and after.group(1) not in _NOT_NAMES:
                end = after.end()
            yield PiiMatch("name", m.start(), end)
    for m in _NAME_LEAD.finditer(text):
        # Stop at the first word that is not a name ("Pt Jun Yamamoto Reports ...").
        # After a bare "Patient"/"Pt" one capitalised word may be anything ("Pt Stable"):
        # ask for two (a first name alone is still caught by the lists).
        end, words = None, 0
        for w in re.finditer(r"\S+", m.group("name")):
            if w.group(0) in _NOT_NAMES:
                break
            end, words = m.start("name") + w.end(), words + 1
        if end is not None and (words >= 2 or m.group("weak") is None):
            yield PiiMatch("name", m.start("name"), end)
    if use_common:
        for m in _CAP_TOKEN.finditer(text):
            if m.group(0) not in COMMON_FIRST_NAMES:
                continue
            end = m.end()
            after = _SURNAME_AFTER.match(text, end)
            if after and after.group(1) not in _NOT_NAMES:
                end = after.end()
            yield PiiMatch("name", m.start(), end)


def _candidates(text: str, kinds: frozenset[str], names: tuple[str, ...], use_common: bool) -> Iterable[PiiMatch]:
    has_digit = any(c.isdigit() for c in text)
    if "email" in kinds and "@" in text:
        for m in _EMAIL.finditer(text):
            yield PiiMatch("email", m.start(), m.end())
    if has_digit:
        if "card" in kinds:
            for m in _CARD.finditer(text):
                raw = m.group(0)
                seps = {c for c in raw if not c.isdigit()}
                digits = re.sub(r"\D", "", raw)
                groups_ok = not seps or all(len(g) >= 3 for g in re.split(r"[ -]", raw))
                after_iban_prefix = _IBAN_PREFIX.search(text, max(0, m.start() - 5), m.start()) is not None
                if (
                    len(seps) <= 1 and groups_ok and not after_iban_prefix
                    and 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)
                ):
                    yield PiiMatch("card", m.start(), m.end())
        if "iban" in kinds:
            for m in _IBAN.finditer(text):
                raw = m.group(0)
                want = IBAN_LENGTHS.get(raw[:2])
                if want is None:
                    continue
                count, end = 0, m.start()
                for i, ch in enumerate(raw):
                    if ch != " ":
                        count += 1
                    if count == want:
                        end = m.start() + i + 1
                        break
                else:
                    continue
                if end < len(text) and text[end].isalnum():
                    continue
                if iban_valid(text[m.start():end]):
                    yield PiiMatch("iban", m.start(), end)
        if "ssn" in kinds:
            for m in _SSN.finditer(text):
                if ssn_valid(m.group(1), m.group(3), m.group(4)):
                    yield PiiMatch("ssn", m.start(), m.end())
            for m in _SSN_BARE.finditer(text):
                if ssn_valid(m.group(1), m.group(2), m.group(3)):
                    yield PiiMatch("ssn", m.start(1), m.end(3))
        if "ip" in kinds:
            if "." in text:
                for m in _IPV4.finditer(text):
                    if _ipv4_valid(m.group(0)):
                        yield PiiMatch("ip", m.start(), m.end())
    if "ip" in kinds and ("::" in text or text.count(":") >= 7):
        for m in _IPV6.finditer(text):
            if _ipv6_valid(m.group(0)):
                yield PiiMatch("ip", m.start(), m.end())
    if has_digit:
        if "mrn" in kinds:
            for m in _MRN.finditer(text):
                yield PiiMatch("mrn", m.start(1), m.end(1))
        if "dob" in kinds:
            for m in _DOB.finditer(text):
                if _date_valid(m.group(1)):
                    yield PiiMatch("dob", m.start(1), m.end(1))
        if "phone" in kinds:
            for m in _PHONE_GROUPED.finditer(text):
                raw = m.group(0)
                digits = sum(c.isdigit() for c in raw)
                international = raw.startswith("+")
                if not 7 <= digits <= 15 or (digits >= 13 and not international):
                    continue
                if not international and (_DATE_SHAPE.fullmatch(raw) or _SSN_SHAPE.fullmatch(raw) or _IPV4_SHAPE.fullmatch(raw)
                                          or _THOUSANDS_SHAPE.fullmatch(raw) or _YEAR_RANGE_SHAPE.fullmatch(raw)):
                    continue
                yield PiiMatch("phone", m.start(), m.end())
            for m in _PHONE_E164.finditer(text):
                yield PiiMatch("phone", m.start(), m.end())
            for m in _PHONE_CONTEXT.finditer(text):
                yield PiiMatch("phone", m.start(1), m.end(1))
    if "name" in kinds and any(c.isupper() for c in text):
        yield from _name_candidates(text, names, use_common)


def _resolve(candidates: Iterable[PiiMatch]) -> list[PiiMatch]:
    """Keep non-overlapping spans: most specific kind first, then the longest."""
    ordered = sorted(set(candidates), key=lambda m: (_TIER[m.kind], m.start - m.end, m.start))
    kept: list[PiiMatch] = []
    for cand in ordered:
        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
            kept.append(cand)
    kept.sort(key=lambda m: m.start)
    return kept


def find_pii(
    text: str,
    kinds: Iterable[str] | None = None,
    names: Sequence[str] = (),
    use_common_names: bool = True,
) -> list[PiiMatch]:
    """Spans of personal data in ``text``, non-overlapping, sorted by position.

    ``kinds`` restricts the search (default: all of :data:`ALL_KINDS`);
    ``names`` adds names to look for (case-sensitive, whole words).
    """
    if not text:
        return []
    wanted = frozenset(ALL_KINDS if kinds is None else kinds)
    unknown = wanted - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown PII kind(s): {', '.join(sorted(unknown))}; known: {', '.join(ALL_KINDS)}")
    return _resolve(_candidates(text, wanted, tuple(names), use_common_names))


def mask_text(
    text: str,
    names: Sequence[str] = (),
    kinds: Iterable[str] | None = None,
    use_common_names: bool = True,
) -> str:
    """``text`` with every detected value replaced by its typed placeholder (``[EMAIL]``...)."""
    return mask_matches(text, find_pii(text, kinds, names, use_common_names))


def mask_matches(text: str, matches: Sequence[PiiMatch]) -> str:
    """Replace the given (non-overlapping, sorted) spans by their placeholders."""
    if not matches:
        return text
    out: list[str] = []
    pos = 0
    for m in matches:
        out.append(text[pos:m.start])
        out.append(PLACEHOLDERS[m.kind])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------
# Single tokens (tokenizer vocabularies, merges, added tokens)
# --------------------------------------------------------------------------

#: Kinds whose detector needs no context, so it applies to one token alone.
TOKEN_KINDS: tuple[str, ...] = ("email", "phone", "mrn", "ssn", "card", "iban", "ip")
# Subword markers of WordPiece (``##``), byte-level BPE (``\u0120`` = space), SentencePiece
# (``\u2581``) and classic BPE end-of-word (``</w>``).
_TOKEN_PREFIXES = ("##", "\u0120", "\u2581")
_TOKEN_SUFFIXES = ("</w>",)
# The value shape of the MRN detector (1-3 letters, 6-10 digits) with no label before it.
_ID_NUMBER = re.compile(r"[A-Za-z]{0,3}(\d{6,15})")


def token_pii_kind(token: str, names: Sequence[str] = (), use_common_names: bool = False) -> str | None:
    """The kind of personal data one vocabulary token *is*, or None.

    A vocabulary has no context, so only detectors that decide on the value
    alone apply: ``email``, ``card`` (Luhn), ``iban`` (mod 97), ``ssn``,
    ``ip`` and grouped or ``+`` ``phone`` numbers, as in :func:`find_pii`.
    A bare run of 6-15 digits (optionally 1-3 letters first) is an
    identifier-shaped number: 6-10 digits count as ``mrn`` (the MRN value
    shape), 11-15 as ``phone``; a subword vocabulary keeps a whole number that
    long only when it saw it often in training, which is memorisation, not
    language. Round and one-digit runs (``100000``, ``999999``) are not
    counted. Not applied: ``dob`` (a date alone is not a birth date) and the
    lead-word name rule. Names: the ``names`` given (whole token, any case),
    and the bundled list only with ``use_common_names`` (off by default: in
    any uncased vocabulary it flags words such as "will" or "mark").
    """
    core = token.strip()
    for prefix in _TOKEN_PREFIXES:
        if core.startswith(prefix):
            core = core[len(prefix):]
    for suffix in _TOKEN_SUFFIXES:
        if core.endswith(suffix):
            core = core[: -len(suffix)]
    if len(core) < 2:
        return None
    if names or use_common_names:
        wanted = {n.strip().lower() for n in names if n and n.strip()}
        if use_common_names:
            wanted |= {n.lower() for n in COMMON_FIRST_NAMES}
        if core.lower() in wanted:
            return "name"
    if any(c.isdigit() for c in core) or "@" in core or ":" in core:
        matches = find_pii(core, TOKEN_KINDS, use_common_names=False)
        if matches:
            return max(matches, key=lambda m: m.end - m.start).kind
        number = _ID_NUMBER.fullmatch(core.strip(".,;:!?()[]{}<>\"'"))  # whitespace tokenizers keep punctuation
        if number:
            digits = number.group(1)
            if len(set(digits)) > 1 and not re.fullmatch(r"[1-9]0{5,}", digits):
                return "mrn" if len(digits) <= 10 else "phone"
    return None
