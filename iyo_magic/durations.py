"""Moments and durations in words for people: when a token expires, when a job ran."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_time(moment: datetime | float) -> str:
    """'2026-11-29 18:13:40 UTC', from an aware datetime or epoch seconds."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_remaining(seconds: float) -> str:
    """'in 23h59m', 'in 42s' or '3m00s ago'."""
    past = seconds < 0
    seconds = int(abs(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        text = f"{hours}h{minutes:02d}m"
    elif minutes:
        text = f"{minutes}m{secs:02d}s"
    else:
        text = f"{secs}s"
    return f"{text} ago" if past else f"in {text}"
