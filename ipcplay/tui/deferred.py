"""Callbacks for later that cannot outlive their widget.

Textual runs a `call_after_refresh` callback on the app after the next
refresh, whether or not the widget that asked is still on a screen. Escape on a
run screen pops it; a fit or a redraw scheduled a moment before then ran on a
widget with no screen and took the whole app down (`NoScreen`), in front of a
class. Every deferred call in the TUI goes through here, and a test checks that
no module schedules one another way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode, NoScreen
from textual.timer import Timer


def alive(node: DOMNode) -> bool:
    """On a screen that is still on the app's stack, and the app not on its
    way out. Attached is not enough: a popped screen takes its children down
    one by one while it is still attached itself, so a panel can be attached
    and already without the rows it queries."""
    if not node.is_attached:
        return False
    try:
        screen = node.screen
    except NoScreen:
        return False
    return screen in node.app.screen_stack


def after_refresh(node: DOMNode, callback: Callable[..., Any], *args: Any) -> None:
    """`callback(*args)` after the next refresh, if `node` is still attached then."""

    def guarded() -> None:
        if alive(node):
            callback(*args)

    node.call_after_refresh(guarded)


def after(node: DOMNode, delay: float, callback: Callable[[], Any]) -> Timer:
    """`callback()` in `delay` seconds, if `node` is still attached then.

    A timer of a widget stops when the widget is removed, but a callback that
    touches *other* widgets (the highlight of a tour step, say) may still find
    them gone; the check costs nothing."""

    def guarded() -> None:
        if alive(node):
            callback()

    return node.set_timer(delay, guarded)


def every(node: DOMNode, interval: float, callback: Callable[[], Any]) -> Timer:
    """`callback()` every `interval` seconds while `node` is on a screen of
    the stack: a popped screen prunes its children before its own timers stop."""

    def guarded() -> None:
        if alive(node):
            callback()

    return node.set_interval(interval, guarded)
