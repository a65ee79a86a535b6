"""A branch's opening hours, written as people write them: ``Mo-Fr 09:00-18:00; Sa 09:00-13:00``.

Parts are separated by ``;``; each names days (``Mo``, ``Mo-Fr``, ``Mo,We``) and one or more
time ranges (``09:00-12:00,13:00-18:00``). A day not named is closed. A range must end after it
starts (``24:00`` closes at midnight), and no two ranges of one day may overlap. A problem is
reported with the part it is in, so HQ can find it in the text they typed.
"""

from __future__ import annotations

import re
from datetime import time

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_PART = re.compile(r"^(?P<days>[A-Za-z,\- ]+?)\s+(?P<times>[0-9:,\- ]+)$")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")

#: weekday (0 = Monday) → ranges in minutes since midnight, [start, end).
Hours = dict[int, list[tuple[int, int]]]


class HoursError(ValueError):
    """Opening hours that can't be read; the message names the part."""


def _days(text: str, part: str) -> list[int]:
    found: list[int] = []
    for item in text.replace(" ", "").split(","):
        ends = item.split("-")
        try:
            index = [DAYS.index(end.capitalize()) for end in ends]
        except ValueError:
            raise HoursError(f"“{part}”: “{item}” is not a day; write Mo, Tu, We, Th, Fr, Sa, Su or a range "
                             "such as Mo-Fr.") from None
        if len(index) == 1:
            found.append(index[0])
        elif len(index) == 2 and index[0] <= index[1]:
            found.extend(range(index[0], index[1] + 1))
        else:
            raise HoursError(f"“{part}”: “{item}” is not a range of days from Monday to Sunday, such as Mo-Fr.")
    return found


def _minutes(hours: str, minutes: str, part: str, item: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise HoursError(f"“{part}”: “{item}” is not a time of day (00:00 to 24:00).")
    return value


def parse_hours(text: str) -> Hours:
    """Read opening hours; raise HoursError naming the part at fault."""
    hours: Hours = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        match = _PART.match(part)
        if not match:
            raise HoursError(f"“{part}”: write days and times, e.g. “Mo-Fr 09:00-18:00”.")
        for day in _days(match["days"], part):
            for item in (t.strip() for t in match["times"].split(",")):
                found = _RANGE.match(item)
                if not found:
                    raise HoursError(f"“{part}”: “{item}” is not a time range such as 09:00-18:00.")
                start = _minutes(found[1], found[2], part, item)
                end = _minutes(found[3], found[4], part, item)
                if end <= start:
                    raise HoursError(f"“{part}”: {item} ends before it starts.")
                for other in hours.get(day, []):
                    if start < other[1] and other[0] < end:
                        raise HoursError(f"“{part}”: {item} overlaps other hours on {DAYS[day]}.")
                hours.setdefault(day, []).append((start, end))
    if not hours:
        raise HoursError("Write at least one day with its hours, e.g. “Mo-Fr 09:00-18:00”.")
    return hours


def is_open(hours: Hours, weekday: int, at: time) -> bool:
    """Whether a branch with these hours is open on ``weekday`` (0 = Monday) at ``at``."""
    minute = at.hour * 60 + at.minute
    return any(start <= minute < end for start, end in hours.get(weekday, []))
