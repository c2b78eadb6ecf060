"""The composer's diagram: the same lines the run screen draws, from a draft.

It is drawn from what is typed, valid or not, so the picture follows every
keystroke; the run screen's diagram is drawn from live snapshots instead.
"""

from __future__ import annotations

from rich.text import Text

from ipcplay.scenario import kinds
from ipcplay.scenario.draft import Draft, Entry, parse_steps
from ipcplay.tui.widgets.flow import link


def _who(process: Entry) -> str:
    """'worker ×3' for replicas, as the run screen groups them."""
    replicas = str(process.get("replicas")).strip()
    if replicas == "cpu_count":
        return f"{process.name} ×cpu"
    if replicas.isdigit() and int(replicas) > 1:
        return f"{process.name} ×{int(replicas)}"
    return process.name or "(unnamed)"


def channel_kind_label(channel: Entry) -> str:
    """The kind's one label (scenario/kinds.py), from what is typed."""
    return kinds.channel_label(
        str(channel.get("kind")), channel.get("maxsize"), bool(channel.get("duplex"))
    )


def _label(channel: Entry) -> str:
    return f"{channel.name} · {channel_kind_label(channel)}"


def steps_targets(process: Entry) -> list[str]:
    """The shared objects and channels a process's steps name, in order, as typed."""
    if not str(process.get("steps")).strip():
        return []
    tables = parse_steps(process.get("steps"))[0]
    return [str(t.get("on", next(iter(t.values())))) for t in tables if "sleep" not in t]


def _shared_targets(process: Entry) -> list[str]:
    """steps_targets without the channels a put or get names."""
    channels = {*_step_ends(process, "put"), *_step_ends(process, "get")}
    return [n for n in steps_targets(process) if n not in channels]


def _step_ends(process: Entry, verb: str) -> list[str]:
    """The channels a steps process's put (or get) steps name, as typed."""
    if process.get("role") != "steps" or not str(process.get("steps")).strip():
        return []
    return [str(t[verb]) for t in parse_steps(process.get("steps"))[0] if verb in t]


def _verbs(process: Entry, name: str) -> list[str]:
    tables = parse_steps(process.get("steps"))[0]
    out = []
    for table in tables:
        if table.get("on") == name:
            verbs = ("add", "multiply", "value", "append", "setitem", "setattr")
            verb = next(verb for verb in verbs if verb in table)
            out.append(f"{verb}{' locked' if table.get('locked') else ''}")
        elif "on" not in table and name in table.values():
            out.append(next(iter(table)))
    return out


def shared_kind(obj: Entry) -> str:
    """'Value i = 0', 'Barrier(2)': the kind and what it starts with."""
    kind = obj.get("kind")
    value = str(obj.get("value")).strip()
    if kind == "Value":
        return f"Value {obj.get('typecode')} = {value or 0}"
    if kind == "Array":
        return f"Array {obj.get('typecode')} [{obj.get('values')}]"
    if kind in ("Semaphore", "BoundedSemaphore"):
        return f"{kind}({value or 1})"
    if kind == "Barrier":
        return f"Barrier({str(obj.get('parties')).strip()})"
    if kind == "ManagerList":
        return f"man.list([{str(obj.get('values')).strip()}])"
    if kind == "ManagerDict":
        return f"man.dict({{ {str(obj.get('items')).strip()} }})"
    if kind == "ManagerNamespace":
        return "man.Namespace()"
    return str(kind)


def topology(draft: Draft) -> Text:
    """Writers ──▶ [channel] ──▶ readers for every channel, then the loose ends."""
    text = Text()
    for channel in draft.channels:
        writers = [
            _who(p)
            for p in draft.processes
            if channel.uid in p.get("out") or channel.name in _step_ends(p, "put")
        ]
        readers = [
            _who(p)
            for p in draft.processes
            if channel.uid in p.get("in") or channel.name in _step_ends(p, "get")
        ]
        if kinds.channel_has(channel.get("kind"), "pipe_like") and channel.get("duplex"):
            ends = list(dict.fromkeys(writers + readers))
            left = ends[0] if ends else "(nobody)"
            right = ", ".join(ends[1:]) or "(nobody)"
            text.append_text(link(left, _label(channel), right, " ◀──▶ "))
        else:
            text.append_text(
                link(
                    ", ".join(writers) or "(nobody)",
                    _label(channel),
                    ", ".join(readers) or "(nobody)",
                )
            )
    for obj in draft.shared:  # users ──▶ [object] what they do with it
        users = [p for p in draft.processes if obj.name in _shared_targets(p)]
        verbs = list(dict.fromkeys(v for p in users for v in _verbs(p, obj.name)))
        text.append(f" {', '.join(_who(p) for p in users) or '(nobody)'}", style="bold")
        text.append(" ──▶ ", style="grey62")
        text.append(f"[{obj.name} · {shared_kind(obj)}]", style="bold cyan")
        text.append(f"  {', '.join(verbs)}\n" if verbs else "\n", style="grey62")
    for process in draft.processes:
        if process.get("in") or process.get("out") or steps_targets(process):
            continue
        text.append(f" {_who(process)}", style="bold")
        if process.get("role") == "steps":
            text.append(" (its steps use no shared object)\n", style="grey62")
        else:
            text.append(" (not connected to a channel)\n", style="grey62")
    if not draft.channels and not draft.processes and not draft.shared:
        text.append(
            " Nothing yet: a adds a process, c a channel, o a shared object.", style="grey62"
        )
    text.rstrip()
    return text
