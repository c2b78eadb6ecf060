"""What a kind of channel or shared object is made of: the entry types of the
kinds table (scenario/kinds.py) and the TOML keys kinds may take.

Kept apart from the table itself so the table stays a list of entries, one
per kind, that a new kind extends without growing past a readable size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Section = Literal["channel", "shared", "process"]


@dataclass(frozen=True)
class Template:
    """A starting point offered by the composer; `values` override the defaults."""

    key: str
    section: Section
    label: str
    about: str
    base: str  # the first name tried for a new entry
    values: Mapping[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    """A steps template: the kinds of shared object its steps work on; `{target}`
    in its steps is the selected (or last) such object, or a new one made from
    the shared template `makes`."""
    makes: str = ""


@dataclass(frozen=True)
class Key:
    """A TOML key a kind may take besides `kind`: its meaning, shared by every
    kind that takes it (a key means one thing wherever it appears)."""

    name: str
    type: str  # "int", "bool", "number", "typecode", "list", "table"
    default: Any
    about: str
    low: int = 0  # an "int" key: the least it may be
    cap: str = ""  # an "int" key: the model's constant that caps it (MAX_MAXSIZE...)
    missing: str = ""
    """What the loader says when a kind that requires the key lacks it, after
    "missing; ": `{kind}` is the kind's name, `{a_kind}` the same with "a"/"an"."""


# Every key a channel or shared object may take. A kind lists which it takes.
KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "maxsize",
            "int",
            0,
            "items it holds before put() waits; 0 = unbounded",
            cap="MAX_MAXSIZE",
        ),
        Key("duplex", "bool", True, "both ends send and receive; false = one-way"),
        Key(
            "reader_keeps_write_end",
            "bool",
            False,
            "a one-way Pipe's reader also holds the write end (a classic mistake)",
        ),
        Key("remote", "bool", False, "served by a BaseManager that processes connect() to"),
        Key("typecode", "typecode", "i", "the ctypes typecode of the numbers"),
        Key("value", "number", 0, "the initial value (a Semaphore: its permits, 1)"),
        Key(
            "values",
            "list",
            (),
            "the initial items",
            missing="{a_kind} needs its initial values, e.g. [0, 0, 0]",
        ),
        Key(
            "parties",
            "int",
            0,
            "how many processes the Barrier waits for",
            low=1,
            cap="MAX_PARTIES",
            missing="how many processes the {kind} waits for",
        ),
        Key(
            "size",
            "int",
            0,
            "how many bytes the block holds",
            low=1,
            cap="MAX_BLOCK",
            missing="how many bytes the block holds, e.g. 64",
        ),
        Key("items", "table", (), "the initial keys and values"),
    )
}


@dataclass(frozen=True)
class ChannelKind:
    """A kind of channel: how processes pass messages."""

    name: str
    keys: tuple[str, ...] = ()  # TOML keys it takes besides `kind` (see KEYS)
    bounded: bool = False  # takes a maxsize: put() waits while it is full
    pipe_like: bool = False  # two connected ends; send()/recv(), no depth of its own
    joinable: bool = False  # task_done() and join()
    feeder: bool = False  # a feeder thread sends what put() queued (close/join_thread)
    manager: bool = False  # lives in a Manager's server process; processes hold proxies
    templates: tuple[Template, ...] = ()
    make: str = ""
    """How an exported script makes it in main(): the expression after `var = `.
    `{maxsize}` is its bound ("" for none) and `{queue_note}` the export's words
    on that bound; a `  # comment` in it stays on its line. Empty for a
    pipe-like kind: the export writes its two ends itself."""
    make_note: str = ""
    """The export's comment on `make`: beside it if it fits, else above it."""
    opens: tuple[str, ...] = ()
    """A kind no process inherits (a socket): how an exported script's process
    opens its own end from what main() made with `make`, as the first line of
    its function: first for the process that uses it first (in file order),
    then for every other; `{var}` is the variable, `  # ` starts a comment.
    A pipe-like kind with a `make` is handed to each process as that one value,
    not as two ends."""
    helpers: tuple[str, ...] = ()
    """export/snippets.py HELPERS that a script using this kind includes."""
    imports: tuple[str, ...] = ()
    """Import lines that a script using this kind needs besides the usual ones."""

    def label(self, maxsize: int | str = 0, duplex: bool = True) -> str:
        """'Queue(3)', 'Queue', 'Pipe', 'Pipe(one-way)': the kind and its bound.

        `maxsize` may be the text a composer field holds, shown as typed."""
        if self.pipe_like:
            return self.name if duplex else f"{self.name}(one-way)"
        bound = str(maxsize).strip()
        return f"{self.name}({bound})" if self.bounded and bound not in ("", "0") else self.name


@dataclass(frozen=True)
class SharedKind:
    """A kind of shared object: state or a synchronisation primitive."""

    name: str
    keys: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # keys it cannot do without
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Its keys' values when the file leaves them out, where they differ from
    KEYS' (a Semaphore's `value` is 1, as in Python)."""
    lock: bool = False  # acquire()/release(); the holders are counted
    permits: bool = False  # its `value` is a count of permits (a semaphore)
    data: bool = False  # numbers in shared memory with a lock (Value, Array)
    manager: bool = False  # lives in a Manager's server process; processes hold proxies
    block: bool = False  # plain bytes in a named shared-memory segment
    steps: tuple[str, ...] = ()  # the step actions that may name it
    manager_steps: tuple[str, ...] = ()
    """Its own steps, on `{ on = NAME, ... }` (append, setitem, setattr): a
    Manager object's through its proxy, any other kind's in place."""
    templates: tuple[Template, ...] = ()
    make: str = ""
    """How an exported script makes it in main(): the expression after `var = `,
    with `{typecode}`, `{value}`, `{values}`, `{items}`, `{parties}` and `{size}`
    written as Python. Empty: `ctx.<name>()`."""
    make_note: str = ""
    """The export's comment on `make` (the same fields): beside it if it fits,
    else above it. Without one, a long `make` is wrapped as ruff format would."""
    show: str = ""
    """The export's expression for what it holds when the run is over, printed
    as `value=...`; `{var}` is its variable. Empty: nothing printed."""
    release: tuple[str, ...] = ()
    """Lines the export's main() writes for it once its value is printed, `{var}`
    its variable: a block of shared memory is closed, then unlinked by its creator."""

    def label(self, value: float = 0, parties: int = 0) -> str:
        """'Semaphore(2)', 'Barrier(3)', 'Lock': the kind and the number it starts with."""
        if self.permits:
            return f"{self.name}({value:g})"
        if "parties" in self.keys:
            return f"{self.name}({parties})"
        return self.name


def channel_template(key: str, label: str, about: str, base: str, **values: Any) -> Template:
    return Template(key, "channel", label, about, base, values)


def shared_template(key: str, label: str, about: str, base: str, **values: Any) -> Template:
    return Template(key, "shared", label, about, base, values)
