"""Cron schedules: ``minute hour day-of-month month day-of-week``, as in crontab(5).

Each field is ``*``, a number, a range ``a-b``, a list ``a,b,c``, any of these with a step
(``*/15``, ``1-30/2``), or, for months and days of the week, their three-letter English names
(``sat``, ``jan-mar``). Day of week 0 and 7 are Sunday. As in cron, when both day fields are
restricted a day matches either of them. Shortcuts: @hourly, @daily, @weekly, @monthly.
Times are wall-clock times of the zone of the datetimes given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {
    3: {m: i for i, m in enumerate(_MONTHS, start=1)},
    4: {d: i for i, d in enumerate(_WEEKDAYS)},
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_SHORTCUTS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
MAX_SEARCH_DAYS = 366 * 5  # 29 February on a Monday happens within 28 years: refused below


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month is *
    any_weekday: bool  # day of week is *

    def matches(self, at: datetime) -> bool:
        return (
            at.minute in self.minutes
            and at.hour in self.hours
            and at.month in self.months
            and self._day(at)
        )

    def _day(self, at: datetime) -> bool:
        weekday = at.isoweekday() % 7
        in_month, in_week = at.day in self.days, weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def latest(self, at: datetime) -> datetime | None:
        """The last tick at or before ``at`` (seconds dropped), None if none in five years."""
        t = at.replace(second=0, microsecond=0)
        limit = t - timedelta(days=MAX_SEARCH_DAYS)
        while t > limit:
            if not (t.month in self.months and self._day(t)):
                t = t.replace(hour=23, minute=59) - timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=59) - timedelta(hours=1)
                continue
            if t.minute in self.minutes:
                return t
            t -= timedelta(minutes=1)
        return None

    def next_after(self, at: datetime) -> datetime | None:
        """The first tick strictly after ``at``, None if none in five years."""
        t = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=MAX_SEARCH_DAYS)
        while t < limit:
            if not (t.month in self.months and self._day(t)):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute in self.minutes:
                return t
            t += timedelta(minutes=1)
        return None


def parse_cron(text: str) -> Cron:
    """Parses a schedule; raises CronError saying which field is wrong and why."""
    expr = _SHORTCUTS.get(text.strip().lower(), text.strip())
    if expr.startswith("@"):
        raise CronError(f"schedule {text!r}: unknown shortcut; one of {', '.join(_SHORTCUTS)}")
    parts = expr.split()
    if len(parts) != 5:
        raise CronError(
            f"schedule {text!r} needs 5 fields (minute hour day-of-month month day-of-week), "
            f"found {len(parts)}"
        )
    sets = [_field(i, p, text) for i, p in enumerate(parts)]
    weekdays = frozenset(d % 7 for d in sets[4])
    cron = Cron(text.strip(), sets[0], sets[1], sets[2], sets[3], weekdays,
                parts[2] == "*", parts[4] == "*")  # fmt: skip
    if cron.next_after(datetime(2000, 1, 1)) is None:
        raise CronError(f"schedule {text!r} never fires (no such day)")
    return cron


def _field(index: int, part: str, text: str) -> frozenset[int]:
    low, high = _BOUNDS[index]
    values: set[int] = set()
    for item in part.split(","):
        body, slash, step_text = item.partition("/")
        if slash and not step_text:
            raise CronError(f"schedule {text!r}: {_FIELDS[index]} {item!r} has no step after /")
        step = _number(index, step_text, text) if step_text else 1
        if step < 1:
            raise CronError(f"schedule {text!r}: {_FIELDS[index]} step must be at least 1")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = _number(index, a, text), _number(index, b, text)
        else:
            start = _number(index, body, text)
            end = high if step_text else start
        for value in (start, end):
            if not low <= value <= high:
                raise CronError(
                    f"schedule {text!r}: {_FIELDS[index]} {value} is outside {low}-{high}"
                )
        if start > end:
            raise CronError(f"schedule {text!r}: {_FIELDS[index]} range {body} is backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(index: int, token: str, text: str) -> int:
    token = token.strip().lower()
    names = _NAMES.get(index, {})
    if token in names:
        return names[token]
    if token.isascii() and token.isdigit() and len(token) > 4:
        low, high = _BOUNDS[index]
        raise CronError(f"schedule {text!r}: {_FIELDS[index]} {token[:12]}... is outside "
                        f"{low}-{high}")  # fmt: skip
    if not token.isdigit() or not token.isascii():
        raise CronError(f"schedule {text!r}: {_FIELDS[index]} {token!r} is not a number")
    return int(token)
