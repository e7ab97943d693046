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

Chinese (mainland) formats
--------------------------
Three kinds of their own, and the shared kinds where the meaning is the same.
The language-neutral detectors (email, card, iban, ip, grouped and ``+`` phone
numbers) treat CJK characters and full-width punctuation as boundaries, so
``邮箱zhang.wei@163.com，`` or ``IP地址10.0.0.5。`` are found without spaces;
on text without CJK characters they behave exactly as before.  Detectors
marked *Chinese text* run only on text containing a Han character.

``cn_id``        ``[CN_ID]``.  Resident identity number (GB 11643), any text:
                 18 characters = 6-digit region code whose first two digits are
                 a province-level code (11-15, 21-23, 31-37, 41-46, 50-54,
                 61-65, 71, 81, 82) + birth date ``YYYYMMDD`` (a real calendar
                 date, 1900-01-01 to today) + 3-digit sequence + ISO 7064
                 MOD 11-2 check character (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5
                 8 4 2, sum mod 11 -> ``10X98765432``; ``X`` or ``x``).  Plain or
                 spaced 6-8-4 (``110101 19900307 4514``); not inside a longer run
                 of letters or digits (``(?<![0-9A-Za-z])``, so
                 ``身份证号110101199003074514，`` is found).  Failing the check
                 character, the region or the date: not personal data.  An ID
                 that also passes Luhn is one ``cn_id``, never a ``card``.
``phone``        *Chinese text*: mobile ``1[3-9]X XXXX XXXX`` (11 digits), bare
                 or 3-4-4 with spaces or dashes, optionally after ``+86``,
                 ``0086``, ``86`` or ``(+86)`` (with or without a space or dash).
                 Outside Chinese text a mobile counts only with ``+86``/``0086``
                 (other shapes there are the English phone rules above).
                 Landline: area code ``010``/``02X`` + 8 digits or ``0[3-9]XX``
                 + 7-8 digits, written ``010-12345678``, ``0755 1234567``,
                 ``(0755)1234567`` (local part may be split 4-4 / 3-4),
                 optional extension ``-8001``, ``转8001``, ``分机8001``,
                 ``ext 8001``, ``#8001``; without a separator only right after a
                 phone label (电话, 手机, 座机, 固话, 联系电话, 联系方式).
``card``         in Chinese text additionally: 15-19 digits, a card scheme's
                 prefix (6 UnionPay/Discover, 4 Visa, 51-55 and 2221-2720
                 Mastercard, 34/37 Amex, 35 JCB, 30/36/38/39 Diners), groups of
                 4 may end with a shorter group (``6222 0212 3456 7890 128``),
                 Luhn as everywhere.
``cn_passport``  ``[CN_PASSPORT]``.  PRC passport ``E``/``G`` + 8 digits or
                 ``E`` + a letter other than I/O + 7 digits (``EA1234567``),
                 only when ``护照`` (or "passport") occurs at most 10 characters
                 before it; only the number is masked.  Product codes of the
                 same shape elsewhere are left alone.
``email``, ``ip`` as above, also between Han characters and full-width
                 punctuation (``，。：；（）``).
``dob``          *Chinese text*: a date (``1990年3月7日``, ``1990-03-07``) right
                 after 出生日期, 出生年月(日), 生日, 出生于, 生于.
``name``         *Chinese text*: a surname from :data:`CN_SURNAMES` (~360
                 common single-character surnames) or
                 :data:`CN_COMPOUND_SURNAMES` (欧阳, 司马, 诸葛, 上官...) and 1-2
                 given-name characters, only (1) right after 患者, 病人, 姓名,
                 联系人, 家属, 医生, 主治医师/主治医生 (optionally ``：``, ``:`` or
                 spaces between), or (2) right before 先生, 女士, 小姐, 同志,
                 医生, 老师 (surname alone allowed: ``王先生``) or 患者 (1+ given
                 characters).  The given name stops at a character that is
                 almost never part of a name in notes (function words,
                 symptoms, body parts: ``患者李明因胸痛入院`` -> ``李明``).  A stop
                 list of clinical words after a lead (主诉, 自述, 于今日, 高热,
                 黄疸, 平素, 全身...) and before a title (帕金森, 语文, 主任...)
                 keeps ``患者主诉``, ``高血压患者``, ``主管医生`` from being names.
                 Before a title, the longest reading wins (over-masking one
                 character rather than leaking one).  Names without such
                 context are not flagged (no lookup of bare surnames).
``cn_address``   ``[CN_ADDRESS]``.  *Chinese text*: optional
                 province (``…省``/``…自治区``), city (``…市``/``…州``/``…盟``),
                 district (``…区``/``…县``/``…旗``), town (``…镇``/``…乡``/
                 ``…街道``), then a road (``…路``/``…街``/``…大街``/``…大道``/
                 ``…道``/``…巷``/``…胡同``/``…弄``, optional ``…段``) and a
                 number ``88号`` (or ``88-2号``), optionally ``院``, building
                 (``3栋``/``3幢``/``3座``/``3号楼``/``A座``), ``2单元``, floor
                 (``5楼``/``5层``) and room (``501室``).  Or a compound
                 (``…小区``/``…花园``/``…公寓``/``…大厦``/``…新村``/``…家园``/
                 ``…苑``) with a building and a room (``阳光花园3栋501室``).  A
                 road and a house number are required: ``市区``, ``区域``,
                 ``3号楼``, ``3号床`` alone are not addresses.  The span starts at
                 the first place-name character: 住, 在, 于, 址, 地, 至... end
                 the words before it (``现住北京市…`` masks from 北京).

Look-alikes refused in Chinese text: a card- or phone-shaped number right after
an order / waybill / invoice / serial label (订单号, 运单号, 快递单号, 流水号,
编号, 批号, 条码...) or right after an ID label (身份证号: an 18-digit number
that failed the ID checks is not then reported as a card); a phone-shaped piece
of a longer grouped digit run (a card that failed Luhn); dates (2023年3月5日,
2023-03-05, ``2024-03-10 18:39`` in any language), vitals and lab values
(血压140/90mmHg, 体温38.5℃).  Record numbers after 门诊号 / 住院号 / 病历号 /
病案号 (6-12 digits, optionally 1-3 letters first) are ``mrn``, as an English
"MRN" is: they identify a patient.  Not flagged yet: 15-digit first-generation
IDs, full-width digits.

Overlaps are resolved by specificity, then length: checksum-validated kinds
(email, iban, card, ssn, ip, cn_id) beat context kinds (mrn, dob,
cn_passport, cn_address) which beat the loosest ones (phone, name); among
equals the longer span wins, and on the very same span cn_id beats card.

Speed: all patterns are compiled once; a text without a digit, an ``@`` or a
capital letter skips every detector (the fast path), and the Chinese detectors
run only on text with a Han character, so 10k short notes scan in well under a
second.
"""

from __future__ import annotations

import calendar
import datetime
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ALL_KINDS",
    "CN_COMPOUND_SURNAMES",
    "CN_PROVINCE_CODES",
    "CN_SURNAMES",
    "COMMON_FIRST_NAMES",
    "PLACEHOLDERS",
    "PiiMatch",
    "cn_id_valid",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "mask_matches",
    "mask_text",
    "ssn_valid",
    "token_pii_kind",
]

#: Every kind, in the order reports list them.
ALL_KINDS: tuple[str, ...] = (
    "name", "email", "phone", "mrn", "ssn", "card", "iban", "ip", "dob", "cn_id", "cn_passport", "cn_address",
)
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
    "cn_id": "[CN_ID]",
    "cn_passport": "[CN_PASSPORT]",
    "cn_address": "[CN_ADDRESS]",
}
# Lower wins when spans overlap (see module docstring).
_TIER: dict[str, int] = {
    "email": 0, "iban": 0, "card": 0, "ssn": 0, "ip": 0, "cn_id": 0,
    "mrn": 1, "dob": 1, "cn_passport": 1, "cn_address": 1,
    "phone": 2, "name": 2,
}
# Same tier, same span: the kind listed first wins (an 18-digit resident ID that also
# passes Luhn is a cn_id, not a card).
_TIE_ORDER: dict[str, int] = {"cn_id": 0}


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

# Python's \w (and so \b) counts CJK ideographs, kana and hangul as word characters, so
# "邮箱a@b.cn" or "卡号6222..." would have no boundary before the value.  The
# language-neutral patterns below use _W, a word character that is *not* CJK, in their
# guards instead: identical to \w on text without CJK characters (English unchanged).
_CJK_RANGES = (
    "\u2e80-\u2fdf\u3005-\u3007\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_W = "[^\\W" + _CJK_RANGES + "]"
# Han ideographs (Chinese text: what the Chinese detectors need to run at all).
_HAN_CLASS = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_HAN = re.compile(_HAN_CLASS)

_EMAIL = re.compile(
    r"(?<![.%+-])(?<!" + _W + r")[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?!-|" + _W + r")"
)
_CARD = re.compile(r"(?<!-)(?<!" + _W + r")\d(?:[ -]?\d){12,18}(?!-|" + _W + r")")
_IBAN = re.compile(r"(?<!" + _W + r")[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,31}")
_IBAN_PREFIX = re.compile(r"(?<!" + _W + r")[A-Z]{2}\d{2} $")
_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_SSN_BARE = re.compile(r"\b(?:SSN|[Ss]ocial [Ss]ecurity (?:[Nn]o\.?|[Nn]umber))\s*(?:#|:)?\s*(\d{3})(\d{2})(\d{4})\b")
_IPV4 = re.compile(r"(?<!\.)(?<!" + _W + r")(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?!" + _W + r")")
_IPV6 = re.compile(
    r"(?<!:)(?<!" + _W + r")(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?!:|" + _W + r")"
)
_MRN = re.compile(
    r"\b(?:MRN|[Mm]edical [Rr]ecord (?:[Nn]umber|[Nn]o\.?|#)|[Mm]ed\.? [Rr]ec\.? (?:[Nn]o\.?|#))"
    r"\s*(?:#|[Nn]o\.|[Nn]umber|:)?\s*:?\s*([A-Z]{0,3}\d{6,10})\b"
)
#: Chinese record-number labels: the number after them identifies a patient as an MRN does.
_MRN_ZH = re.compile(r"(?:门诊号|住院号|病历号|病案号)(?:码)?\s*[：:#]?\s*([A-Z]{0,3}\d{6,12})(?!\d)")
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
    r"(?<![+/.-])(?<!" + _W + r")(\+\d{1,3}[ .-]?)?(\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![/-]|\.\d|" + _W + r")"
)
_PHONE_E164 = re.compile(r"(?<!\+)(?<!" + _W + r")\+\d{7,15}(?!" + _W + r")")
_PHONE_CONTEXT = re.compile(
    r"\b(?:[Tt]el|TEL|[Pp]hone|PHONE|[Pp]h|[Mm]obile|[Mm]ob|[Cc]ell|[Ff]ax|[Cc]all)\.?:?\s*(\d{7,15})\b"
)
_DATE_SHAPE = re.compile(r"\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}")
# A date and the hour of a time that goes on with ":" ("2024-03-10 18:39").
_DATETIME_SHAPE = re.compile(r"(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})[ T]\d{1,2}")
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


# --------------------------------------------------------------------------
# Chinese (mainland) formats
# --------------------------------------------------------------------------

#: Province-level codes: the first two digits of a resident identity number's region code.
CN_PROVINCE_CODES: frozenset[str] = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"


def cn_id_valid(number: str, today: datetime.date | None = None) -> bool:
    """Mainland resident identity number (GB 11643): 18 characters, spaces ignored.

    A province-level region code, a real birth date between 1900-01-01 and
    ``today``, and the ISO 7064 MOD 11-2 check character (``X``/``x`` = 10).
    """
    s = number.replace(" ", "").upper()
    if len(s) != 18 or not s[:17].isdigit() or s[17] not in "0123456789X":
        return False
    if s[:2] not in CN_PROVINCE_CODES:
        return False
    try:
        born = datetime.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if not datetime.date(1900, 1, 1) <= born <= (today or datetime.date.today()):
        return False
    total = sum(int(d) * w for d, w in zip(s[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == s[17]


def _card_iin_plausible(digits: str) -> bool:
    """Issuer prefixes of the card schemes used in China: UnionPay/Discover 6, Visa 4,
    Mastercard 51-55 and 2221-2720, American Express 34/37, JCB 35, Diners 30/36/38/39."""
    if digits[0] in "46":
        return True
    two = int(digits[:2])
    return 51 <= two <= 55 or two in (30, 34, 35, 36, 37, 38, 39) or 2221 <= int(digits[:4]) <= 2720


_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_CN_ID = re.compile(_NOT_ALNUM_BEFORE + r"\d{6}( ?)\d{8}\1\d{3}[0-9Xx]" + _NOT_ALNUM_AFTER)
# +86 / 0086 / 86 / (+86) prefix, then 1[3-9]X XXXX XXXX (3-4-4, one kind of separator or none).
_CN_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?P<cc>(?:\(\+?(?:00)?86\)|\+86|0086|86)[ -]?)?"
    r"1[3-9]\d(?P<sep>[ -]?)\d{4}(?P=sep)\d{4}" + _NOT_ALNUM_AFTER
)
# Area code 010 / 02X + 8 digits, or 0[3-9]XX + 7-8 digits; separated from the number by a
# dash or space, or in parentheses; optional extension (-123, 转123, 分机123, ext 123, #123).
_CN_EXTENSION = r"(?:(?:-|转|分机|ext\.? ?|#)\d{1,6})?"
_CN_LANDLINE = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:(?:\(0(?:10|2[0-57-9])\)[ -]?|0(?:10|2[0-57-9])[ -])\d{4}[ -]?\d{4}"
    r"|(?:\(0[3-9]\d{2}\)[ -]?|0[3-9]\d{2}[ -])\d{3,4}[ -]?\d{4})"
    + _CN_EXTENSION + _NOT_ALNUM_AFTER
)
# A bare landline (no separator) only right after a phone label.
_CN_PHONE_LABEL = r"(?:联系电话|电话号码|手机号码|手机号|电话|手机|座机|固话|联系方式)[：:\s]*(?:是|为)?[：:\s]*"
_CN_LANDLINE_LABELED = re.compile(
    _CN_PHONE_LABEL + r"(0(?:10|2[0-57-9])\d{8}|0[3-9]\d{9,10})" + _CN_EXTENSION + _NOT_ALNUM_AFTER
)
# PRC passport: E/G + 8 digits or E + letter (not I/O) + 7 digits, within 10 characters after 护照.
_CN_PASSPORT = re.compile(
    r"(?:护照|[Pp]assport|PASSPORT)[^\n]{0,10}?" + _NOT_ALNUM_BEFORE
    + r"(?P<num>[EeGg]\d{8}|[Ee][A-HJ-NP-Za-hj-np-z]\d{7})" + _NOT_ALNUM_AFTER
)
# Chinese labels of a birth date (same meaning as DOB).
_CN_DOB = re.compile(
    r"(?:出生日期|出生年月日|出生年月|生日|出生于|生于)[：:\s]*(?:是|为)?[：:\s]*"
    r"(\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})(?!\d)"
)
# A card- or phone-shaped number right after one of these labels is an order, waybill,
# invoice... number, or a resident ID that failed its checks: not a card, not a phone.
_CN_NOT_CARD_OR_PHONE_LABEL = re.compile(
    r"(?:(?:订单|运单|工单|快递单|发票|交易|合同)(?:号码|编号|号)?|(?:单|编|流水|批|货|序列|票|挂|条形?)(?:号码|号|码)"
    r"|身份证(?:号码|号)?|(?:公民)?身份号码|证件(?:号码|号))[：:\s#]*$"
)

# Street addresses.  Place-name characters: Han ideographs except words that end the
# sentence before an address ("住在", "位于", "地址", "户籍地"...), so a mask starts at the place.
_CN_PLACE = r"(?:(?![住在于从到至是的址者往去被把将籍地系])" + _HAN_CLASS + r")"
_CN_ADMIN = (
    r"(?:" + _CN_PLACE + r"{2,8}?(?:省|自治区|特别行政区))?"
    r"(?:" + _CN_PLACE + r"{1,8}?(?:市|自治州|州|盟|地区))?"
    r"(?:" + _CN_PLACE + r"{1,8}?(?:区|县|旗))?"
    r"(?:" + _CN_PLACE + r"{1,8}?(?:镇|乡|街道))?"
)
_CN_ROOM = r"(?:(?:\d{1,4}|[A-Za-z])(?:号楼|栋|幢|座))?(?:\d{1,3}单元)?(?:\d{1,3}(?:楼|层))?(?:\d{1,5}(?:室|号房))?"
_CN_ADDRESS = re.compile(
    r"(?:" + _CN_ADMIN + _CN_PLACE + r"{1,10}?(?:大道|大街|路|街|巷|胡同|弄|道)(?:" + _CN_PLACE + r"{1,3}?段)?"
    r"\d{1,5}(?:-\d{1,5})?号(?:大院|院)?" + _CN_ROOM
    + r"|" + _CN_ADMIN + _CN_PLACE + r"{1,10}?(?:小区|花园|公寓|大厦|新村|家园|苑)"
    r"\d{1,4}(?:号楼|栋|幢|座)(?:\d{1,3}单元)?(?:\d{1,3}(?:楼|层))?\d{1,5}(?:室|号))"
)

#: Common single-character Chinese surnames (about 370; a heuristic, see the module docstring).
CN_SURNAMES: frozenset[str] = frozenset("".join("""
    王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈
    姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔
    向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕
    单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚
    娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟臧闵苟邬边卞姬仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻
    苑迟邝官封谈匡鞠惠荆乐冀郁胥班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻厉伊仝郜阚花帅屠豆朴盖练廉禹井祖漆巴丰
    支卿狄计索宣晋芮扈晁阙浦戈伏鹿薄邸雍辜羊裘亓邰赫杭况宿鲜印逯隆茹诸战慕玉银亢嵇湛宾戎勾茅於揭尉束檀展
    阴昝幸奉衡富尧
""".split()))
#: Compound (two-character) surnames.
CN_COMPOUND_SURNAMES: frozenset[str] = frozenset(
    """欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 西门 南宫 独孤 端木 百里
    呼延 澹台 万俟 闻人 赫连 申屠 钟离 宗政 濮阳 太史 公冶 仲孙 拓跋 东郭 司空 左丘 单于 第五 南门 羊舌""".split()
)
# Characters that (almost) never occur in a given name but often follow a surname-like
# character in notes: function words, symptoms, body parts, clinical verbs, units.
# A candidate given name stops before one of them.
_CN_NOT_GIVEN = frozenset(
    "的了在是有无不未已曾再又也都就才因由于为被把将向从到至后前内外及和与或等请给对让叫其此该这某个们之并但而且即仍均约"
    "每各另所以如若否非没着过得地吗呢吧诉述主自认出现感觉今昨既往入来去院诊发伴见予行做服用说称表示要求拒绝同意签字"
    "陪转送住查检测治疗药术病症炎癌瘤伤折痛疼热烧咳嗽痰喘吐泻血压疸肿胀晕痒酸乏颤抖悸闷憋咯呕恶汗醉复祸毒便尿"
    "胸腹腰背腿臂脚足肺肝肾胃肠颈喉咽齿牙头眼耳鼻舌肤脑脊髓膝肩肘踝侧身部床科室号区"
    "岁年时分秒次期龄度危量属氏籍性医护患反持突间阵加逐渐上下"
)
# Words right after a lead (患者, 医生...) that start with a surname character but are not names.
_CN_NOT_NAME_AFTER_LEAD = re.compile(
    "(?:" + "|".join(sorted("""
    于今 于昨 于前 于门 于外 于我 于本 于当 于家 于夜 于近 于晨 于午 于上 于下 于院 于半 于次 于急 于病 于住 于发 于入
    于一 于两 于三 于数 于多 于去 于傍 于凌 于术 于某 于他 于外院 于社区
    高热 高烧 高度 高龄 高危 高血 高空 高处 高压 常规 常年 常感 常有 时常 时而 时感 时有 曾经 曾患 曾多 曾有 平素 平时
    平卧 平日 明显 明确 全身 全天 全程 全部 安静 安睡 安置 安排 成功 成年 向医 向家 向护 向我 向其 向他 向她 和家
    左侧 左下 左上 左眼 左耳 左手 左腿 左足 黄疸 黄染 黄色 白细胞 白天 白带 苏醒 康复 卫生 包扎 管道 计划 查体 查看
    查房 查血 解便 解大便 解小便 解黑便 麻木 麻醉 宫颈 宫缩 宫腔 房颤 房室 牛奶 花粉 容易 单纯 尚可 尚未 满意 干咳
    支气管 文化程度 乐观 谈话 商量 商议 易怒 易感 车祸 路上 费用 华法林 甘露醇 杜冷丁 司机
    江湖 金属 石膏 方面 方便 毛发 温度 冷汗 时间 程度 余下 凌晨 周末 周一 周二 周三 周四 周五 周六 周日 周内 夏季 冬季
    春季 秋季 夏天 冬天 春天 秋天 叶酸 甘油 甘草 黄芪 黄连 金银花 石斛 党参 何首乌 田七 马来酸 林可霉素
    """.split(), key=len, reverse=True)) + ")"
)
# Words right before a title (医生, 老师...) whose last characters look like a surname.
_CN_NOT_NAME_BEFORE_TITLE = (
    "帕金森", "语文", "音乐", "历史", "主任", "向", "康复", "全科", "麻醉", "高危", "成年", "对面", "同事",
)
# A surname alone before a title ("王先生") only at the start of a phrase or after one of
# these characters (请, 和, 通知, 感谢, 这位...): "主管医生", "值班医生" are not names.
_CN_BEFORE_BARE_SURNAME = frozenset("请和跟与及同给找问叫让对由被向是为的位名致谢知诉系经见到")
_CN_NAME_LEAD = re.compile(r"(?:患者|病人|姓名|联系人|家属|主治医师|主治医生|医生)(?:\s*[：:]\s*|\s+)?")
_CN_NAME_TITLE = re.compile(r"先生|女士|小姐|同志|医生|老师|患者")


def _cn_surname_len(text: str, pos: int) -> int:
    if text[pos:pos + 2] in CN_COMPOUND_SURNAMES:
        return 2
    return 1 if pos < len(text) and text[pos] in CN_SURNAMES else 0


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def _cn_name_candidates(text: str) -> Iterable[PiiMatch]:
    # After a lead: surname + 1-2 given-name characters.
    for m in _CN_NAME_LEAD.finditer(text):
        p = m.end()
        if p >= len(text) or _CN_NOT_NAME_AFTER_LEAD.match(text, p):
            continue
        if m.group(0).startswith("家属") and text.startswith(("孙子", "孙女"), p):  # grandson, granddaughter
            continue
        q = p + _cn_surname_len(text, p)
        if q == p:
            continue
        end = q
        while end - q < 2 and end < len(text) and _is_han(text[end]) and text[end] not in _CN_NOT_GIVEN:
            end += 1
        if end > q:
            yield PiiMatch("name", p, end)
    # Before a title: surname + 0-2 given-name characters (at least 1 before 患者);
    # the longest reading wins ("感谢张伟医生" masks "谢张伟": over-masking, never leaking).
    for m in _CN_NAME_TITLE.finditer(text):
        i = m.start()
        if text.endswith(_CN_NOT_NAME_BEFORE_TITLE, 0, i):
            continue
        least = 1 if m.group(0) == "患者" else 0
        for k in (4, 3, 2, 1):
            s = i - k
            if s < 0 or not all(_is_han(c) for c in text[s:i]):
                continue
            slen = _cn_surname_len(text, s)
            if slen == 0 or slen > k:
                continue
            given = text[s + slen:i]
            if not given and s > 0 and _is_han(text[s - 1]) and text[s - 1] not in _CN_BEFORE_BARE_SURNAME:
                continue
            if least <= len(given) <= 2 and not any(c in _CN_NOT_GIVEN for c in given):
                yield PiiMatch("name", s, i)
                break


def _cn_candidates(text: str, kinds: frozenset[str], has_digit: bool) -> Iterable[PiiMatch]:
    """Chinese formats that need Chinese text around them (see the module docstring)."""
    if has_digit:
        if "phone" in kinds:
            for m in _CN_MOBILE.finditer(text):
                yield PiiMatch("phone", m.start(), m.end())
            for m in _CN_LANDLINE.finditer(text):
                yield PiiMatch("phone", m.start(), m.end())
            for m in _CN_LANDLINE_LABELED.finditer(text):
                yield PiiMatch("phone", m.start(1), m.end())
        if "dob" in kinds:
            for m in _CN_DOB.finditer(text):
                if _date_valid(m.group(1)):
                    yield PiiMatch("dob", m.start(1), m.end(1))
        if "cn_address" in kinds and ("号" in text or "室" in text):
            for m in _CN_ADDRESS.finditer(text):
                yield PiiMatch("cn_address", m.start(), m.end())
    if "name" in kinds:
        yield from _cn_name_candidates(text)


def _candidates(text: str, kinds: frozenset[str], names: tuple[str, ...], use_common: bool) -> Iterable[PiiMatch]:
    chinese = not text.isascii() and _HAN.search(text) is not None
    found = _all_candidates(text, kinds, names, use_common, chinese)
    if not chinese:
        return found
    # In Chinese text a card- or phone-shaped number right after an order/waybill/ID label is
    # neither, and a phone is not a piece of a longer grouped digit run (a card failing Luhn).
    found = list(found)
    runs = [(m.start(), m.end()) for m in _CARD.finditer(text)] if any(m.kind == "phone" for m in found) else []
    return (
        m for m in found
        if m.kind not in ("phone", "card")
        or not (
            _CN_NOT_CARD_OR_PHONE_LABEL.search(text, max(0, m.start - 12), m.start)
            or (m.kind == "phone" and any(s <= m.start and m.end <= e and (s, e) != (m.start, m.end) for s, e in runs))
        )
    )


def _all_candidates(
    text: str, kinds: frozenset[str], names: tuple[str, ...], use_common: bool, chinese: bool
) -> Iterable[PiiMatch]:
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
                groups = re.split(r"[ -]", raw)
                groups_ok = not seps or all(len(g) >= 3 for g in groups) or (
                    # Chinese text: groups of 4 with a shorter last one (6222 0212 3456 7890 12)
                    chinese and all(len(g) == 4 for g in groups[:-1]) and len(groups[-1]) >= 2
                )
                after_iban_prefix = _IBAN_PREFIX.search(text, max(0, m.start() - 5), m.start()) is not None
                if (
                    len(seps) <= 1 and groups_ok and not after_iban_prefix
                    and 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)
                ):
                    # In Chinese text also a card scheme's prefix and 15+ digits.
                    if chinese and (len(digits) < 15 or not _card_iin_plausible(digits)):
                        continue
                    yield PiiMatch("card", m.start(), m.end())
        if "cn_id" in kinds:
            for m in _CN_ID.finditer(text):
                if cn_id_valid(m.group(0)):
                    yield PiiMatch("cn_id", m.start(), m.end())
        if "cn_passport" in kinds and ("护照" in text or "assport" in text or "ASSPORT" in text):
            for m in _CN_PASSPORT.finditer(text):
                yield PiiMatch("cn_passport", m.start("num"), m.end("num"))
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
            for m in _MRN_ZH.finditer(text):
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
                                          or _THOUSANDS_SHAPE.fullmatch(raw) or _YEAR_RANGE_SHAPE.fullmatch(raw)
                                          or (_DATETIME_SHAPE.fullmatch(raw) and text.startswith(":", m.end()))):
                    continue
                yield PiiMatch("phone", m.start(), m.end())
            for m in _PHONE_E164.finditer(text):
                yield PiiMatch("phone", m.start(), m.end())
            for m in _PHONE_CONTEXT.finditer(text):
                yield PiiMatch("phone", m.start(1), m.end(1))
    if "name" in kinds and any(c.isupper() for c in text):
        yield from _name_candidates(text, names, use_common)
    if chinese:
        yield from _cn_candidates(text, kinds, has_digit)
    elif has_digit and "phone" in kinds and "86" in text:
        # Outside Chinese text a mainland mobile counts only with its +86 / 0086 prefix.
        for m in _CN_MOBILE.finditer(text):
            if m.group("cc") and m.group("cc").lstrip("(").startswith(("+", "00")):
                yield PiiMatch("phone", m.start(), m.end())


def _resolve(candidates: Iterable[PiiMatch]) -> list[PiiMatch]:
    """Keep non-overlapping spans: most specific kind first, then the longest."""
    ordered = sorted(set(candidates), key=lambda m: (_TIER[m.kind], m.start - m.end, m.start, _TIE_ORDER.get(m.kind, 1), m.kind))
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
TOKEN_KINDS: tuple[str, ...] = ("email", "phone", "mrn", "ssn", "card", "iban", "ip", "cn_id")
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
    ``ip``, ``cn_id`` (check character, region, date) and grouped or ``+``
    ``phone`` numbers, as in :func:`find_pii`.
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
