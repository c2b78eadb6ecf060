"""Small pure functions that turn numbers into words and glyphs.

Plain strings and (text, style) pairs, no Rich and no Textual, so the headless
run, the report and the TUI all use them (the TUI's Rich pieces are in
tui/format.py, which also re-exports these)."""

from __future__ import annotations

from collections.abc import Sequence

from ipcplay.engine.snapshot import PoolSample, ProcessSample, SharedSample
from ipcplay.safetext import neutralise

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


def state_words(p: ProcessSample, now: float) -> tuple[str, str]:
    """(what the process is doing, in words; a style) — as a teacher would say it."""
    b = p.blocked
    if p.state == "blocked" and b is not None:
        why = f" — {b.reason}" if b.reason else ""
        held = now - b.since
        at_least = "" if b.exact else "≥"
        by = f" held by {b.holder}" if b.holder else ""
        at = f" at {b.where}" if b.where else ""  # a watched program's own line
        return (
            f"blocked on {b.op} '{b.channel}'{at}{by}{why} for {at_least}{held:.1f} s",
            "bold #ffb454",
        )
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


def shared_kind(o: SharedSample) -> str:
    """The object as the code makes it: Value('i'), Array('d', 3), Semaphore(2), Barrier(3)."""
    if o.kind == "Value":
        return f"Value('{o.typecode}')"
    if o.kind == "Array":
        n = len(o.value) if isinstance(o.value, tuple) else 0
        return f"Array('{o.typecode}', {n})"
    if o.kind in ("Semaphore", "BoundedSemaphore"):
        return f"{o.kind}({o.permits})"
    if o.kind == "Barrier":
        return f"Barrier({o.parties})"
    if o.kind == "SharedMemory":
        return f"SharedMemory({o.size})"
    if o.kind in _MANAGER_WORDS:
        return _MANAGER_WORDS[o.kind]
    return o.kind


class _shown(str):
    """An inner list as Python prints it ([1, 1]), for array_text's number()."""

    def __new__(cls, v: object) -> _shown:
        return super().__new__(cls, repr(list(v)) if isinstance(v, tuple) else repr(v))


_MANAGER_WORDS = {
    "ManagerList": "man.list()",
    "ManagerDict": "man.dict()",
    "ManagerNamespace": "man.Namespace()",
}


def number(x: object) -> str:
    """A shared number as Python prints it, floats to 10 significant digits."""
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)


def array_text(values: tuple[object, ...], width: int) -> str:
    """`[0, 100, 200, …]`, cut to `width` characters at an element boundary."""
    parts = [number(v) for v in values]
    full = "[" + ", ".join(parts) + "]"
    if len(full) <= width:
        return full
    out = "["
    for k, part in enumerate(parts):
        more = f", … {len(parts) - k} more]"
        if len(out) + len(part) + len(more) + 2 > width:
            return out + ("" if k == 0 else ", ") + f"… {len(parts) - k} more]"
        out += ("" if k == 0 else ", ") + part
    return out + "]"


def shared_state(o: SharedSample, now: float, width: int = 60) -> list[tuple[str, str]]:
    """What the object holds or who holds it, in words, as (text, style) pieces."""
    if o.kind == "Value":
        out = [(number(o.value), "bold cyan")]
        if o.expected is not None:
            out.append((f"  expected {o.expected}", ""))
            out.append((f"  lost {o.lost}", "bold #ff4040" if o.lost else "#5fd75f"))
        return out
    if o.kind == "Array":
        return [(array_text(o.value if isinstance(o.value, tuple) else (), width), "cyan")]
    if o.kind in _MANAGER_WORDS:  # the value as ipcplay last read it from the server
        if o.value is None:
            return [("not read yet", "dim")]
        if o.kind == "ManagerList":
            out = [(array_text(tuple(_shown(v) for v in o.value), width), "cyan")]
            if o.expected is not None and o.lost is not None:
                out.append((f"  inner: expected {o.expected}", ""))
                out.append((f"  lost {o.lost}", "bold #ff4040" if o.lost else "#5fd75f"))
            return out
        if o.kind == "ManagerDict":
            text = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in o.value) + "}"
        else:
            text = "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in o.value) + ")"
        return [(text if len(text) <= width else text[: width - 1] + "…", "cyan")]
    if o.kind == "Event":
        if o.is_set is None:
            return [("set" if o.sets > o.clears else "not set", "")]
        return [("set", "bold #5fd75f") if o.is_set else ("not set", "#ffb454")]
    if o.per_process:
        return _block_state(o, width)
    if o.kind == "Barrier":
        if o.broken:
            return [("broken", "bold #ff4040")]
        return [(f"{o.arrived} of {o.parties} waiting", "#ffb454" if o.arrived else "")]
    holders = ", ".join(f"{n} (pid {pid})" for n, pid in zip(o.holders, o.holder_pids, strict=True))
    if o.kind in ("Semaphore", "BoundedSemaphore"):
        out = [(f"{o.free} of {o.permits} free", "#5fd75f" if o.free else "#ffb454")]
        if holders:
            out.append((f"; held by {holders}", ""))
        return out
    # A Condition's waiters have given its lock up: they are under "waiting".
    notes = [(f"  notify ×{o.notifies}", "")] if o.kind == "Condition" else []
    if not holders:
        return [("free", "#5fd75f"), *notes]
    held = f" for {max(0.0, now - o.held_since):.1f} s" if o.held_since else ""
    return [(f"held by {holders}{held}", "#ffb454"), *notes]


def _block_state(o: SharedSample, width: int) -> list[tuple[str, str]]:
    """An object in a named shared-memory block: what it holds (its items, or
    the sum of its bytes), the reads and writes counted, the block's name.
    Most telling first: a narrow column cuts from the right."""
    reads = sum(count for _, count, _, _ in o.per_process)
    writes = sum(count for _, _, count, _ in o.per_process)
    counts = (f"  {reads} reads {writes} writes  ", "")
    if isinstance(o.value, tuple):  # text read from shared memory: neutralised
        items = array_text(tuple(_shown(item) for item in o.value), width)
        return [(neutralise(items, multiline=False), "bold cyan"), counts, (o.block, "cyan")]
    return [(f"sum {o.value}", "bold cyan"), counts, (f"{o.block} [{o.head}]", "cyan")]


def notes_text(notes: tuple[tuple[str, int], ...]) -> str:
    """A demo role's own numbers: "global at start 0 · global now 3 · parent's global 200"."""
    return " · ".join(f"{label} {value}" for label, value in notes)


def pool_text(o: PoolSample) -> str:
    """A Pool's task flow in two lines: counted, and results in arrival order."""
    head = f" Pool({o.processes}"
    if o.maxtasksperchild:
        head += f", maxtasksperchild={o.maxtasksperchild}"
    head += f").{o.method}({o.function}) {o.state}:"
    # Most telling first, as a narrow panel cuts from the right: failures are the story.
    if o.failed or o.errors:
        head += f" failed {o.failed}, {o.errors} reached the owner ·"
    head += f" submitted {o.submitted} · queued {o.queued}"
    head += f" · running {o.running} · returned {o.returned} · collected {o.collected}"
    if o.callbacks or o.error_callbacks:
        head += f" · callbacks {o.callbacks}/{o.error_callbacks}"
    if o.timeouts or o.resubmitted:
        head += f" · timeouts {o.timeouts} resubmitted {o.resubmitted}"
    head += f" · workers started {o.workers_started}, ended {o.workers_exited}"
    got = ", ".join(f"{o.tasks[i]}={number(r)}" for i, r in zip(o.arrived, o.results, strict=True))
    line = f"\n results as they arrived: {got or '(none yet)'}"
    if o.lost:
        line += "  lost: " + ", ".join(o.tasks[i] for i in o.lost)
    return head + line
