"""The ``siting`` command line: the only place that knows about argv, exit codes and the terminal.

Bad input of any kind (a :class:`~siting._errors.SitingError`, a missing file, a click
usage error) prints one line on stderr and exits with status 2, without a traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from .._errors import SitingError


class _InputProblem(click.ClickException):
    """A one-line error for bad input: exit status 2."""

    exit_code = 2


#: The commands, loaded when they run: ``name -> (module in siting.cli, first line of its
#: help)``, so that ``siting --help`` lists them without importing pandas, numba and the
#: rest (tests check the lines against the commands' own help).
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("score", "Score candidate sites: incidents and services within a walk, with every component shown."),
    "select": ("select", "Choose sites: maximal covering, p-median or fewest sites, solved exactly."),
    "run": ("run", "Score the candidates of a scenario file (see data/demo/scenario.toml)."),
    "compare": ("compare", "Run two scenario files and draw them side by side with linked panning."),
    "demo": ("demo", "Run everything offline on central Helsinki (OpenStreetMap) with SYNTHETIC incidents."),
    "inspect": ("inspect", "What a layer holds, and what a run would use of it and leave out (and why)."),
}


class SitingGroup(click.Group):
    """A click group that turns siting's own errors into one-line messages and exit 2.

    Commands in :data:`COMMANDS` are imported only when asked for.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in COMMANDS:
            import importlib

            module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name][0]}")
            cmd = getattr(module, cmd_name.replace("-", "_"))
            self.add_command(cmd, cmd_name)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, with the help lines of :data:`COMMANDS` (nothing imported)."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in self.commands:
                cmd = self.commands[name]
                if cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Like click's, but a usage error is one line too (with where to find help)."""
        standalone = kwargs.pop("standalone_mode", True)
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            if not standalone:
                raise
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"Error: {' '.join(exc.format_message().split())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            if not standalone:
                raise
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            if not standalone:
                raise
            click.echo("Aborted!", err=True)
            sys.exit(1)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SitingError as exc:
            raise _InputProblem(_one_line(exc)) from None
        except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
            raise _InputProblem(_one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    text = (
        str(exc)
        if not isinstance(exc, OSError) or not exc.filename
        else (str(exc) if exc.strerror is None else f"{exc.filename}: {exc.strerror}")
    )
    return " ".join(text.split())


class _StderrHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
            click.echo(prefix + self.format(record), err=True)
        except Exception:  # pragma: no cover - logging must never break a run
            self.handleError(record)


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logger = logging.getLogger("siting")
    for h in list(logger.handlers):
        if isinstance(h, _StderrHandler):
            logger.removeHandler(h)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(max(logging.DEBUG, min(logging.CRITICAL, level)))
    logger.propagate = False


def _show_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..pipeline import package_versions

    for name, ver in package_versions().items():
        click.echo(f"{name}: {ver}")
    ctx.exit(0)


@click.group(cls=SitingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", count=True, help="Less output: no progress, only errors.")
@click.version_option(package_name="siting", prog_name="siting")
@click.option(
    "--show-versions",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_versions,
    help="Print the versions of siting and its main dependencies, then exit.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Plan supervised consumption sites by walking time on the real street network.

    Logs and progress go to stderr; data goes to files (or stdout with -o -).
    """
    verbosity = verbose - quiet
    _configure_logging(verbosity)
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbosity


def progress_printer(ctx: click.Context) -> Any:
    """A progress callback for the pipeline: lines on stderr when it is a terminal, or with -v.

    Otherwise (a script, a pipe, a log file) stderr gets only warnings and errors; -q
    silences progress everywhere.
    """
    verbosity = (ctx.find_root().obj or {}).get("verbosity", 0)
    if verbosity < 0 or (verbosity == 0 and not _stderr_is_terminal()):
        return None

    def show(message: str) -> None:
        click.echo(f"siting: {message}", err=True)

    return show


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    A run that finished (as the ``siting`` command, ``argv`` not given) ends at once,
    without the interpreter freeing every object one by one: see :func:`_end_process`;
    it runs without the cyclic garbage collector: see :func:`_no_cycle_collection`.
    """
    if argv is None:
        _no_cycle_collection()
    cli.main(args=argv, prog_name="siting")
    if argv is None:
        _end_process()


def _no_cycle_collection() -> None:
    """Run the command without Python's cyclic garbage collector (reference counting still
    frees every object that is not in a cycle).

    A command is one batch run in its own process: it makes hundreds of thousands of
    long-lived objects (points, strings, frames) on top of the modules' own, and each of
    the collector's full passes walked all of them to find nothing to free. On the county
    score that was about 0.7 s of CPU holding the GIL; its peak memory is the same without
    the collector (bench/README, county section). Only the ``siting`` command does this;
    ``main(argv)`` from Python (tests, notebooks) leaves the interpreter as it is.
    """
    import gc

    gc.disable()


def _end_process() -> None:
    """End a finished command now, skipping the interpreter's teardown.

    After a county run, Python's own exit spent about 0.5 s of CPU (over a second of wall
    time on a busy machine) freeing hundreds of thousands of geometries, strings and
    arrays one by one, after every output was written. What exit does that matters is
    done first: the ``atexit`` handlers (logging's flush, ``weakref.finalize``, coverage)
    and flushing stdout and stderr. Where anything could still be lost (a thread still
    running, an output stream that will not flush) the normal exit runs instead.
    """
    import atexit
    import os
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return
    if not _flushed():  # a closed pipe: Python reports it as it always does
        return
    atexit._run_exitfuncs()  # (they run once: the list is emptied)
    if _flushed():
        os._exit(0)


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
