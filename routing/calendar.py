"""Business-hours calendars: opening hours per weekday, holidays, a time zone; business time arithmetic.

Instants are seconds since the epoch (UTC).  Opening hours are local wall-clock times in the calendar's
time zone, so daylight-saving changes are honoured.  The open intervals of each local date are computed
once and cached, so adding business time to an instant costs a few dictionary look-ups per day spanned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead business time is searched before a calendar is declared to never open.
SEARCH_DAYS = 3 * 366

Interval = tuple[float, float]
LocalHours = tuple[tuple[time, time | None], ...]  # None as the end: midnight at the end of the day


class CalendarError(ValueError):
    """A calendar that cannot work: bad hours, overlapping hours, never open."""


def parse_hours(text: str) -> tuple[time, time | None]:
    """``"08:00-20:00"`` -> (08:00, 20:00); ``"24:00"`` as the end means the end of the day."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = None if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        raise CalendarError(f"opening hours {text!r} are not HH:MM-HH:MM") from None
    if end is not None and end <= start:
        raise CalendarError(f"opening hours {text!r} end before they start")
    return start, end


class BusinessCalendar:
    """When the business is open.  ``always_open`` calendars (24x7, no holidays) skip all arithmetic."""

    def __init__(self, name: str, time_zone: str, hours: Mapping[str, Iterable[str]],
                 holidays: Iterable[date] = ()) -> None:
        self.name = name
        self.zone = ZoneInfo(time_zone)
        self.holidays = frozenset(holidays)
        self.hours: dict[int, LocalHours] = {}
        for day, spans in hours.items():
            if day not in WEEKDAYS:
                raise CalendarError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            parsed = tuple(sorted(parse_hours(span) for span in spans))
            for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
                if end is None or end > start:
                    raise CalendarError(f"opening hours on {day} overlap")
            self.hours[WEEKDAYS.index(day)] = parsed
        if not any(self.hours.values()):
            raise CalendarError("the calendar is never open")
        self.always_open = not self.holidays and all(
            self.hours.get(i) == ((time(0), None),) for i in range(7))
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._quarters: dict[int, date] = {}

    def open_intervals(self, day: date) -> tuple[Interval, ...]:
        """The open intervals of a local date as UTC instants."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        intervals: tuple[Interval, ...] = ()
        if day not in self.holidays:
            zone = self.zone
            spans = []
            for start, end in self.hours.get(day.weekday(), ()):
                opened = datetime.combine(day, start, zone).timestamp()
                closed = (datetime.combine(day + timedelta(days=1), time(0), zone) if end is None
                          else datetime.combine(day, end, zone)).timestamp()
                spans.append((opened, closed))
            intervals = tuple(spans)
        self._days[day] = intervals
        return intervals

    def local_date(self, instant: float) -> date:
        """The local date of an instant, cached per quarter hour (every time zone's offset is a whole
        number of quarter hours, so a date never changes inside one)."""
        quarter = int(instant // 900)
        day = self._quarters.get(quarter)
        if day is None:
            if len(self._quarters) >= 100_000:
                self._quarters.clear()
            day = self._quarters[quarter] = datetime.fromtimestamp(quarter * 900, self.zone).date()
        return day

    def is_open(self, instant: float) -> bool:
        return any(start <= instant < end for start, end in self.open_intervals(self.local_date(instant)))

    def business_seconds(self, start: float, end: float) -> float:
        """Open time between two instants (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return end - start
        total = 0.0
        day = self.local_date(start)
        last = self.local_date(end)
        while day <= last:
            for opened, closed in self.open_intervals(day):
                low, high = max(opened, start), min(closed, end)
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return total

    def add_business(self, start: float, seconds: float) -> float:
        """The instant at which ``seconds`` of open time have passed since ``start``."""
        if self.always_open:
            return start + seconds
        remaining = seconds
        day = self.local_date(start)
        for _ in range(SEARCH_DAYS):
            for opened, closed in self.open_intervals(day):
                if closed <= start:
                    continue
                begin = max(opened, start)
                available = closed - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError(f"calendar {self.name!r} has no open time within {SEARCH_DAYS} days")

    def next_open(self, instant: float) -> float:
        """``instant`` itself when open, else the next opening."""
        return self.add_business(instant, 0.0)
