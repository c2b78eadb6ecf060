"""The loader's rules for a Listener/Client channel: a connection has two
ends, one per process, as a duplex Pipe does; exact one-line messages."""

from __future__ import annotations

import pytest

from ipcplay.scenario import ScenarioError, draft, loads
from ipcplay.scenario.model import Scenario

HEAD = '[scenario]\ntitle = "t"\n[channels.link]\nkind = "Listener"\n'


def proc(name: str, role: str, *lines: str) -> str:
    return "\n".join(["[[process]]", f'name = "{name}"', f'role = "{role}"', *lines]) + "\n"


SERVER = proc("server", "consumer", 'in = "link"')
CLIENT = proc("client", "producer", 'out = "link"', "count = 3", 'finally = "close"')


def test_a_server_and_a_client_load_and_close_is_allowed() -> None:
    scenario = loads(HEAD + SERVER + CLIENT)
    assert [c.kind for c in scenario.channels] == ["Listener"]
    assert scenario.processes[1].ending == ("close",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEAD + SERVER + proc("client", "producer", 'out = "link"', "replicas = 2"),
            "<string>: process[1].replicas: must be 1 because the process uses Listener 'link' "
            "(a Listener end belongs to one process), got 2",
        ),
        (
            HEAD + SERVER + CLIENT + proc("other", "producer", 'out = "link"'),
            "<string>: channels.link: a duplex Listener joins at most 2 processes, one per end; "
            "used by server, client, other",
        ),
        (
            HEAD.replace('"Listener"\n', '"Listener"\nmaxsize = 3\n') + SERVER + CLIENT,
            "<string>: channels.link.maxsize: applies to Queue, JoinableQueue and ManagerQueue "
            "only, not Listener",
        ),
    ],
    ids=["replicas", "three-ends", "maxsize"],
)
def test_a_listener_is_refused_what_a_connection_cannot_be(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        loads(text)
    assert str(error.value) == message


def test_the_composer_wires_a_pinger_and_a_ponger_to_a_listener() -> None:
    """Its template, then the two ends, keys only: what `c`, `a 4`, `a 5` do."""
    templates = {t.key: t for t in (*draft.CHANNEL_TEMPLATES, *draft.PROCESS_TEMPLATES)}
    made, link = draft.add(draft.Draft(), templates["listener"], None)
    made, pinger = draft.add(made, templates["pinger"], link)
    made, ponger = draft.add(made, templates["ponger"], link)
    for uid in (pinger, ponger):
        assert (made.entry(uid).get("in"), made.entry(uid).get("out")) == ((link,), (link,))
    scenario = draft.check(made)  # the scenario the loader makes of it, or its problem
    assert isinstance(scenario, Scenario), scenario
    assert [c.kind for c in scenario.channels] == ["Listener"]
