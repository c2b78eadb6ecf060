"""Small pure functions that turn numbers into words and glyphs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from ipcplay.engine.snapshot import ProcessSample

BLOCKS = " ▁▂▃▄▅▆▇█"


def size(n: float) -> str:
    for unit in ("B", "K", "M", "G"):
        if abs(n) < 1024 or unit == "G":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.0f}"


def rate(r: float) -> str:
    if r >= 10_000:
        return f"{r / 1000:.0f}k/s"
    if r >= 100:
        return f"{r:.0f}/s"
    if r >= 1:
        return f"{r:.1f}/s"
    if r > 0:
        return f"{r:.2f}/s"
    return "0/s"


def duration(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(s), 60)
    return f"{m}m{s:02d}s"


def sparkline(values: Sequence[float], width: int, top: float | None = None) -> str:
    """Unicode block sparkline of the last `width` values, scaled to `top`."""
    vals = list(values)[-width:]
    hi = top if top is not None else max(vals, default=0.0)
    if hi <= 0:
        return (" " * (width - len(vals))) + ("▁" * len(vals)) if vals else " " * width
    out = []
    for v in vals:
        k = 0 if v <= 0 else max(1, min(8, round(v / hi * 8)))
        out.append(BLOCKS[k])
    return " " * (width - len(out)) + "".join(out)


def fill_style(depth: int, maxsize: int) -> str:
    """Colour of a bounded queue's fill: calm, then 60 %, 85 %, full."""
    if maxsize <= 0:
        return "cyan"
    f = depth / maxsize
    if f >= 1.0:
        return "bold #ff4040"
    if f >= 0.85:
        return "#ff8c1a"
    if f >= 0.6:
        return "#f0d000"
    return "#5fd75f"


def fill_pieces(depth: int, maxsize: int, width: int) -> list[tuple[str, str]]:
    """A bounded queue's fill as (text, style) pieces, coloured at 60/85/100 %."""
    if maxsize <= 0:
        return [(f"{depth}".rjust(width), "cyan")]
    filled = min(width, round(depth / maxsize * width))
    return [("█" * filled, fill_style(depth, maxsize)), ("░" * (width - filled), "grey37")]


def fill_bar(depth: int, maxsize: int, width: int) -> Text:
    return Text.assemble(*fill_pieces(depth, maxsize, width))


def state_words(p: ProcessSample, now: float) -> tuple[str, str]:
    """(what the process is doing, in words; a style) — as a teacher would say it."""
    b = p.blocked
    if p.state == "blocked" and b is not None:
        why = f" — {b.reason}" if b.reason else ""
        held = now - b.since
        at_least = "" if b.exact else "≥"
        return f"blocked on {b.op} '{b.channel}'{why} for {at_least}{held:.1f} s", "bold #ffb454"
    if p.state.startswith("killed"):
        return p.state, "bold red"
    if p.state.startswith("exited"):
        return p.state, "red" if p.exitcode else "grey62"
    if p.state == "stopped":
        return "stopped (SIGSTOP)", "bold magenta"
    if p.state in ("sleeping", "waiting for its rate"):
        return p.state, "cyan"
    if p.state == "working":
        return "working (CPU)", "green"
    return p.state, "green" if p.state == "running" else ""


def reflow(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph so the terminal can wrap them."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def wait(s: float) -> str:
    """A message's wait in a channel, at a precision a reader can use."""
    if s < 0.001:
        return f"{s * 1e6:.0f}µs"
    if s < 1:
        return f"{s * 1000:.0f}ms"
    return f"{s:.1f}s"
