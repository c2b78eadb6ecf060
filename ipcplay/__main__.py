"""`python -m ipcplay` and the `ipcplay` command.

Why not `ipcplay.cli:main` itself: a Ctrl+C that comes while Python is
still importing ipcplay (the first tenth of a second, longer on a loaded
machine) would end it with a KeyboardInterrupt traceback, before the
command's own handling is in place. Until then it ends the command quietly,
with the status a shell shows for Ctrl+C.
"""

import _signal  # the C module: `signal` imports enum, which can itself be interrupted


def _interrupted_early(signum: int, frame: object) -> None:
    raise SystemExit(130)


def run() -> int:
    early = _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler
    if early:  # not when a shell started us with Ctrl+C ignored
        _signal.signal(_signal.SIGINT, _interrupted_early)
    from ipcplay.cli import main

    if early:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
