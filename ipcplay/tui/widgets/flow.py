"""The topology as a diagram: who writes to which channel, who reads it,
and what flows through it right now."""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import groupby

from rich.text import Text

from ipcplay.engine.snapshot import ChannelSample, Direction, Snapshot
from ipcplay.scenario import kinds
from ipcplay.tui import format as F
from ipcplay.tui.widgets.text import TextView

_NUMBERED = re.compile(r"^(.+)-\d+$")


def _family(name: str, templates: dict[str, str]) -> str:
    """A process's template; for one that has none of its own (a watched
    program's `Process-7`), its name without the number."""
    template = templates.get(name, name)
    if template == name:
        numbered = _NUMBERED.match(name)
        if numbered:
            return numbered.group(1)
    return template


def _group(names: tuple[str, ...], templates: dict[str, str]) -> str:
    """'worker-1, worker-2, worker-3' -> 'worker ×3'; a program's ten
    'Process-N' -> 'Process ×10'."""
    parts = []
    for tmpl, group in groupby(names, key=lambda name: _family(name, templates)):
        members = list(group)
        count = len(members)
        parts.append(members[0] if count == 1 else f"{tmpl} ×{count}")
    return ", ".join(parts) or "(nobody)"


def link(left: str, label: str, right: str, arrow: str = " ──▶ ") -> Text:
    """One line of the diagram: writers ──▶ [channel] ──▶ readers."""
    text = Text()
    text.append(f" {left}", style="bold")
    text.append(arrow, style="grey62")
    text.append(f"[{label}]", style="bold cyan")
    text.append(arrow, style="grey62")
    text.append(f"{right}\n", style="bold")
    return text


def channel_lines(
    channel: ChannelSample, templates: dict[str, str], topology_only: bool = False
) -> Text:
    """A channel's diagram lines. `topology_only` (the channel table is beside
    it): who writes and reads, and a pipe's directions, with no figure at all,
    since those lines are redrawn only when the topology changes and the table
    has the live figures."""
    writers = _group(channel.writers, templates)
    readers = _group(channel.readers, templates)
    text = Text()
    if kinds.channel_has(channel.kind, "pipe_like"):
        duplex = (
            any(d.src in channel.readers for d in channel.directions)
            and len(channel.directions) > 1
        )
        arrow = " ◀──▶ " if duplex else " ──▶ "
        ends = sorted(set(channel.writers) | set(channel.readers))
        left = _group(tuple(ends[:1]), templates) if duplex else writers
        right = _group(tuple(ends[1:]), templates) if duplex else readers
        text.append_text(
            link(
                left,
                f"{channel.name} · {channel.kind} {'duplex' if duplex else 'one-way'}",
                right,
                arrow,
            )
        )
        if not channel.directions:
            text.append("   (no traffic)\n", style="grey62")
        for d in channel.directions:
            if topology_only:  # drawn once: figures here would freeze at their first value
                text.append(f"   {d.src}→{d.dst}\n")
                continue
            text.append(f"   {d.src}→{d.dst} ")
            text.append(f"{F.rate(d.rate)} {F.size(d.bytes_rate)}/s", style="green")
            text.append(f" · {d.in_flight} in flight · {d.received} got\n")
        return text
    text.append_text(
        link(
            writers,
            f"{channel.name} · {kinds.channel_label(channel.kind, channel.maxsize)}",
            readers,
        )
    )
    if not topology_only:
        _queue_figures(text, channel)
    return text


def _queue_figures(text: Text, channel: ChannelSample) -> None:
    """A queue's live line: its fill, rates, age and what only its kind has."""
    text.append("   ")
    if channel.maxsize:
        text.append_text(F.fill_bar(channel.depth, channel.maxsize, 10))
        text.append(
            f" {channel.depth}/{channel.maxsize}",
            style=F.fill_style(channel.depth, channel.maxsize),
        )
    else:
        text.append(f"depth {channel.depth}", style="cyan")
    text.append(
        f"  put {F.rate(channel.put_rate)}  get {F.rate(channel.get_rate)}  max {channel.max_depth}"
    )
    if channel.wait_s:
        text.append(f"  age {F.wait(channel.wait_s)}")
    if kinds.channel_has(channel.kind, "joinable"):
        text.append(f"  unfinished {channel.unfinished}")
    if channel.lost:
        text.append(f"  lost {channel.lost}: could not be pickled", style="bold red")
    text.append("\n")


_AGAIN = re.compile(r"^(.+)#\d+$")


def _base(name: str) -> str:
    """A name without its repeat mark: a program's `q#7` (the seventh object
    bound to `q`) is one of the `q`s."""
    again = _AGAIN.match(name)
    return again.group(1) if again else name


def _merged(names: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Every name once, numbered processes together (so `Process ×40` is
    said once, not split around `main`)."""
    families: dict[str, list[str]] = {}
    for name in dict.fromkeys(name for group in names for name in group):
        families.setdefault(_family(name, {}), []).append(name)
    return tuple(name for members in families.values() for name in members)


def _directions(members: list[ChannelSample]) -> tuple[Direction, ...]:
    """Pipes made in a loop: their directions summed by who sends to whom
    (numbered processes as one: `Process-3→main` and `Process-4→main` are
    `Process→main`)."""
    sums: dict[tuple[str, str], Direction] = {}
    for channel in members:
        for d in channel.directions:
            key = (_family(d.src, {}), _family(d.dst, {}))
            was = sums.get(key)
            sums[key] = (
                replace(d, src=key[0], dst=key[1])
                if was is None
                else replace(
                    was,
                    sent=was.sent + d.sent,
                    received=was.received + d.received,
                    in_flight=was.in_flight + d.in_flight,
                    bytes=was.bytes + d.bytes,
                    rate=was.rate + d.rate,
                    bytes_rate=was.bytes_rate + d.bytes_rate,
                )
            )
    return tuple(sums.values())


def grouped(channels: tuple[ChannelSample, ...]) -> list[ChannelSample]:
    """Channels made again and again at one place (a Queue made in a loop:
    `q`, `q#2`, ... `q#80`) as one line that says how many, with their
    writers, readers and figures together; any other channel as it is."""
    families: dict[tuple[str, str, int], list[ChannelSample]] = {}
    for channel in channels:
        families.setdefault((_base(channel.name), channel.kind, channel.maxsize), []).append(
            channel
        )
    out = []
    for (base, _, _), members in families.items():
        if len(members) == 1:
            out.append(members[0])
            continue
        first = members[0]
        out.append(
            replace(
                first,
                name=f"{base} ×{len(members)}",
                writers=_merged([c.writers for c in members]),
                readers=_merged([c.readers for c in members]),
                depth=sum(c.depth for c in members),
                max_depth=max(c.max_depth for c in members),
                put_rate=sum(c.put_rate for c in members),
                get_rate=sum(c.get_rate for c in members),
                unfinished=sum(c.unfinished for c in members),
                lost=sum(c.lost for c in members),
                wait_s=max(c.wait_s for c in members),
                directions=_directions(members),
            )
        )
    return out


class FlowView(TextView):
    """Re-renders only when the diagram's text or styles actually change."""

    MAX_CHANNELS_SHOWN = 8

    topology_only = False
    """True when the channel table is on screen: it has the live figures, and
    a diagram that does not change costs nothing to keep up."""

    _topology: object = None

    def update_snapshot(self, snap: Snapshot) -> None:
        """The first channels, as many as the panel can show; the channel table
        lists them all."""
        channels = grouped(snap.channels)
        if self.topology_only:
            # Names, kinds and ends only: nothing to redo unless they change.
            key = (
                tuple(
                    (
                        c.name,
                        c.kind,
                        c.maxsize,
                        c.writers,
                        c.readers,
                        [(d.src, d.dst) for d in c.directions],
                    )
                    for c in channels
                ),
                tuple((p.name, p.template) for p in snap.processes),
            )
            if key == self._topology:
                return
            self._topology = key
        else:
            self._topology = None
        templates = {proc.name: proc.template for proc in snap.processes}
        text = Text()
        shown = channels[: self.MAX_CHANNELS_SHOWN]
        for channel in shown:
            text.append_text(channel_lines(channel, templates, self.topology_only))
        rest = len(channels) - len(shown)
        if rest > 0:
            text.append(
                f" … and {rest} more channels (the channel table lists all)\n", style="grey62"
            )
        text.rstrip()
        self.set(text)
