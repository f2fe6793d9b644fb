"""How long until (or since) a token expires, in words for people."""

from __future__ import annotations


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
