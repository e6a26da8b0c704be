"""Amounts and dates a text mentions, written the same whatever its language.

``$500 million``, ``500 millions de dollars``, ``500 مليون دولار`` and ``500 מיליון`` are all
``amount:500000000``; ``24 novembre 2021``, ``November 24, 2021`` and ``24 نوفمبر`` (the year
taken from when the article was published) are all ``date:2021-11-24``. Works on text
folded by :func:`pipelines.stories.words.fold`.
"""

from __future__ import annotations

import re
from datetime import date

_SCALES = {
    "thousand": 1e3, "mille": 1e3, "mil": 1e3, "duizend": 1e3, "الف": 1e3, "آلاف": 1e3,
    "الاف": 1e3, "אלף": 1e3, "million": 1e6, "millions": 1e6, "millon": 1e6,
    "millones": 1e6, "miljoen": 1e6, "mln": 1e6, "mn": 1e6, "m": 1e6, "مليون": 1e6,
    "ملايين": 1e6, "مليونا": 1e6, "מיליון": 1e6, "מיליונים": 1e6, "מליון": 1e6,
    "billion": 1e9, "billions": 1e9, "bn": 1e9, "milliard": 1e9, "milliards": 1e9,
    "miljard": 1e9, "mld": 1e9, "mrd": 1e9, "مليار": 1e9, "مليارات": 1e9, "ميليار": 1e9,
    "مليارا": 1e9, "מיליארד": 1e9, "מיליארדים": 1e9,
}  # fmt: skip
_CURRENCIES = (
    r"\$|€|usd|eur|mad|nis|ils|dollars?|dolares|dollar|euros?|dirhams?|shekels?|"
    r"دولار|دولارا|يورو|درهم|شيكل|דולר|אירו|יורו|שקל|שקלים|ש\"ח|דירהם"
)
_NUMBER = r"\d{1,3}(?:[ ,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE = "|".join(sorted((re.escape(s) for s in _SCALES), key=len, reverse=True))
_AMOUNT = re.compile(
    rf"(?P<cur1>{_CURRENCIES})?\s?(?P<num>{_NUMBER})\s?(?:(?P<scale>{_SCALE})\b)?"
    rf"(?:\s(?:de\s|d'|of\s)?(?P<cur2>{_CURRENCIES}))?",
)
_MONTHS = {
    1: "january janvier januari enero يناير جانفي كانون الثاني ינואר",
    2: "february fevrier februari febrero فبراير فيفري شباط פברואר",
    3: "march mars maart marzo مارس اذار آذار מרץ מרס",
    4: "april avril abril ابريل افريل نيسان אפריל",
    5: "may mai mei mayo مايو ماي ايار מאי",
    6: "june juin juni junio يونيو يونيه جوان حزيران יוני",
    7: "july juillet juli julio يوليو يوليوز جويلية تموز יולי",
    8: "august aout augustus agosto اغسطس غشت اوت اب אוגוסט",
    9: "september septembre septiembre سبتمبر شتنبر ايلول ספטמבר",
    10: "october octobre oktober octubre اكتوبر تشرين الاول אוקטובר",
    11: "november novembre noviembre نوفمبر نونبر تشرين الثاني נובמבר",
    12: "december decembre diciembre ديسمبر دجنبر كانون الاول דצמבר",
}
_MONTH_OF = {word: n for n, words in _MONTHS.items() for word in words.split()}
_MONTH = "|".join(sorted((re.escape(m) for m in _MONTH_OF), key=len, reverse=True))
_DAY_MONTH = re.compile(
    rf"\b(?P<day>[0-3]?\d)(?:er|st|nd|rd|th)?\s(?:de\s)?(?:ב|ל)?(?P<month>{_MONTH})\b"
    rf"(?:\s(?:de\s)?(?P<year>(?:19|20)\d\d))?"
)
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH})\s(?P<day>[0-3]?\d)\b(?:,?\s(?P<year>(?:19|20)\d\d))?"
)
_NUMERIC = re.compile(r"\b(?P<day>[0-3]?\d)[/.](?P<month>[01]?\d)[/.](?P<year>(?:19|20)\d\d)\b")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def amounts(text: str) -> set[str]:
    """``amount:<value>`` for sums of money and counted millions; ``n:<value>`` for other
    numbers of 10 or more that are not years."""
    found: set[str] = set()
    for m in _AMOUNT.finditer(text):
        raw, scale = m.group("num"), m.group("scale")
        money = bool(m.group("cur1") or m.group("cur2"))
        value = _value(raw, scaled=bool(scale))
        if value is None:
            continue
        if scale:
            value *= _SCALES[scale]
        if money or (scale and _SCALES[scale] >= 1e6):
            found.add(f"amount:{value:.6g}")
        elif value >= 10 and not _YEAR.match(raw):
            found.add(f"n:{value:.6g}")
    return found


def _value(raw: str, *, scaled: bool) -> float | None:
    groups = re.split("[.,]", raw.replace(" ", ""))
    if len(groups) == 1:
        text = groups[0]
    elif scaled and len(groups) == 2 and len(groups[1]) < 3:  # 1,5 milliard; 2.5 billion
        text = f"{groups[0]}.{groups[1]}"
    elif all(len(g) == 3 for g in groups[1:]):  # 1,500 / 1.500 / 1 500: thousands
        text = "".join(groups)
    else:
        text = "".join(groups[:-1]) + "." + groups[-1]
    try:
        return float(text)
    except ValueError:
        return None


def dates(text: str, published: date | None) -> set[str]:
    """``date:YYYY-MM-DD`` for every day a text names; a day without a year takes the
    publication's (the year before when that day would be months after publication)."""
    found: set[str] = set()
    for pattern in (_DAY_MONTH, _MONTH_DAY, _NUMERIC):
        for m in pattern.finditer(text):
            month_word = m.group("month")
            month = int(month_word) if month_word.isdigit() else _MONTH_OF.get(month_word, 0)
            day = int(m.group("day"))
            year = int(m.group("year")) if m.group("year") else _guess_year(month, published)
            if year is None:
                continue
            try:
                found.add(f"date:{date(year, month, day).isoformat()}")
            except ValueError:
                continue
    return found


def _guess_year(month: int, published: date | None) -> int | None:
    if published is None or not 1 <= month <= 12:
        return None
    return published.year - 1 if month > published.month + 2 else published.year
