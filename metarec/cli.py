"""The ``metarec`` command line: a thin click layer.

Each command parses its options, calls one API function and prints a table (rich) or JSON. Commands
themselves live in plugins (built-ins in :mod:`metarec.cli_commands`) attached through the
``register_commands`` hook. Errors are converted at one boundary (:func:`main`): a
:class:`~metarec.exceptions.MetarecError` becomes one ``Error: ...`` line and exit code 2.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import click

from ._version import __version__
from .exceptions import MetarecError, MetarecWarning

EXIT_USER_ERROR = 2


class MetarecGroup(click.Group):
    """A group that lists commands in a stable order and fills itself from plugins on first use."""

    _loaded = False

    def _ensure(self) -> None:
        if not self._loaded:
            self._loaded = True
            from .plugins import get_plugin_host

            get_plugin_host().register_commands(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, name: str):
        self._ensure()
        return self.commands.get(name)


@click.group(cls=MetarecGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="metarec")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """metarec: which learners to use on a new dataset, and where to start tuning them.

    \b
    Examples:
      metarec learners --task classification
      metarec metafeatures data.csv --target y
      metarec plugins --json
    """
    import logging

    # the CLI reports problems itself (one "Warning:" / "Error:" line); -v shows the library's logging
    level = (logging.ERROR, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def echo_json(obj: Any) -> None:
    """Print ``obj`` as JSON (NaN becomes null)."""
    click.echo(json.dumps(_jsonable(obj), indent=2, allow_nan=False))


def _jsonable(obj: Any) -> Any:
    import math

    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _jsonable(obj.item())
    return obj


def console():
    """A rich console writing to click's stdout (so CliRunner captures it)."""
    from rich.console import Console

    return Console(file=sys.stdout, width=120, soft_wrap=False)


def warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


class _OneLineRecords:
    """A logging filter that drops tracebacks from records (the message line stays)."""

    def filter(self, record) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def one_line_logs(logger_name: str) -> None:
    """Log records of ``logger_name``'s handlers without tracebacks, unless ``-v`` was given.

    Optuna logs every failed trial (an interrupted one too) with its traceback; a CLI user gets the line.
    """
    import logging

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("verbose"):
        return
    for handler in logging.getLogger(logger_name).handlers:
        if not any(isinstance(f, _OneLineRecords) for f in handler.filters):
            handler.addFilter(_OneLineRecords())


def usage_error_line(exc: click.UsageError) -> str:
    """click's usage error as one line: ``Error: <problem>; see 'metarec <command> --help'``."""
    import re

    message = " ".join(exc.format_message().split())
    message = re.sub(r"\.? \(?Did you mean (.+\?)\)?$", r" (did you mean \1)", message).rstrip(".")
    ctx = exc.ctx
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        names = [n for n in ctx.help_option_names if n.startswith("--")] or list(ctx.help_option_names)
        return f"Error: {message}; see '{ctx.command_path} {names[0]}'"
    return f"Error: {message}"


def os_error_text(exc: OSError) -> str:
    """``<file>: <reason>; <fix>`` for an operating-system error that reached the CLI boundary."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{reason}; check the path, its permissions and the free disk space, then run the command again"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``metarec`` console script: user errors become one line and exit code 2."""
    try:
        with warnings.catch_warnings():  # the library's MetarecWarnings become one "Warning:" line each
            warnings.simplefilter("always", MetarecWarning)
            shown = warnings.showwarning

            def show(message, category, *args, **kwargs):
                if issubclass(category, MetarecWarning):
                    warn(str(message))
                else:
                    shown(message, category, *args, **kwargs)

            warnings.showwarning = show
            cli.main(args=argv, prog_name="metarec", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # `metarec` / `metarec kb` alone: their help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        click.echo(usage_error_line(exc), err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MetarecError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:  # `metarec ... | head`: the reader left, nothing to report
        try:  # and no second error when Python flushes stdout at exit
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        sys.exit(1)
    except OSError as exc:  # a write that fails late (disk full, a directory removed meanwhile): one line too
        click.echo(f"Error: {os_error_text(exc)}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
