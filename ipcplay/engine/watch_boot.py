"""The first code of a watched program's main process: hook, then run it.

The observer starts `python -c BOOT -- path|module TARGET ARGS...`; this
installs the hooks (watch_hooks), registers the process as `main`, and runs
the program as `python TARGET ARGS...` (or `python -m TARGET ARGS...`)
would: a module `__main__` with the file's `__file__`, `sys.argv` as the
program sees it, `sys.path[0]` its folder, so spawn children import it as
`__mp_main__` and find what it defines. An exception the program does not
catch is printed as Python prints it, without this module's frames, and the
process ends with the status Python gives it (1; for KeyboardInterrupt,
killed by SIGINT; SystemExit as Python handles it).
"""

from __future__ import annotations

import builtins
import importlib.machinery
import os
import runpy
import sys
import types
from typing import Any

from ipcplay.engine import board as B
from ipcplay.engine.watch_hooks import install
from ipcplay.engine.watch_runtime import line_buffered

MAIN = 0  # the main process's index


def _enter_main() -> None:
    """The observer registered this process as `main` (index 0) before it
    started it, so that a run is never over before its program begins."""
    rt = install()
    if rt is None:
        return
    rt.enter(MAIN)
    if rt.spec.capture:
        line_buffered()


def _say_error(exc: BaseException) -> None:
    from ipcplay.engine.watch_runtime import runtime

    rt = runtime()
    if rt is not None and rt.base >= 0:
        B.write_text(rt.mv, rt.base, f"{type(exc).__name__}: {exc}")


def _program_tb(tb: Any, here: tuple[str, ...]) -> Any:
    """The traceback from the program's first frame on."""
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(here):
        tb = tb.tb_next
    return tb


def _run_path(path: str) -> None:
    path = os.path.abspath(path)  # as `python path` has made __file__ since 3.9
    with open(path, "rb") as file:
        source = file.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(
        __file__=path,
        __builtins__=builtins,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __spec__=None,
        __cached__=None,
        __package__=None,
    )
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    mode, target, *rest = args
    _enter_main()
    if mode == "path":
        sys.argv = [target, *rest]
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        run = _run_path
    else:
        sys.argv = [target, *rest]
        sys.path[0] = os.getcwd()
        run = _run_module
    here = (
        os.path.dirname(os.path.abspath(__file__)) + os.sep,
        os.path.dirname(os.path.abspath(runpy.__file__)) + os.sep + "runpy",
        "<frozen runpy>",
    )
    try:
        run(target)
    except SystemExit:
        _mapped()
        raise  # Python ends with its code, as for the program itself
    except BaseException as exc:
        _say_error(exc)
        # The default hook prints the exception's own __traceback__: trim that.
        exc.__traceback__ = _program_tb(exc.__traceback__, here)
        sys.excepthook(type(exc), exc, exc.__traceback__)
        # Printed as Python prints it; raised again so the interpreter ends
        # as it would have (status 1, or killed by SIGINT), printing nothing more.
        sys.excepthook = lambda *info: None
        _mapped()
        raise
    _mapped()


def _mapped() -> None:
    """Its Values and Arrays live in this process's memory: the observer
    maps them before it goes (watch_runtime.Runtime.seen)."""
    from ipcplay.engine.watch_runtime import runtime

    rt = runtime()
    if rt is not None:
        rt.seen()


def _run_module(name: str) -> None:
    runpy._run_module_as_main(name, alter_argv=True)  # type: ignore[attr-defined]  # what -m runs
