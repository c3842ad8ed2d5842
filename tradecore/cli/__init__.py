"""The ``tradecore`` command: global plugin options and lazily loaded command groups.

Built-in commands live one group per module and are imported only when used or listed; plugin
commands arrive through the ``tradecore_commands`` hook once the global options are known.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from tradecore import __version__

#: command name -> "module:attribute" (kept lazy so --help stays fast)
BUILTIN_COMMANDS = {
    "plugins": "tradecore.cli.plugins:plugins",
    "components": "tradecore.cli.plugins:components",
    "validate": "tradecore.cli.manifest:validate",
    "schema": "tradecore.cli.manifest:schema",
    "run": "tradecore.cli.run:run",
    "data": "tradecore.cli.data:data",
    "runs": "tradecore.cli.runs:runs",
    "eval": "tradecore.cli.runs:evaluate",
    "report": "tradecore.cli.runs:report",
    "sweep": "tradecore.cli.sweep:sweep",
    "paper": "tradecore.cli.paper:paper",
    "serve": "tradecore.cli.serve:serve",
}


class TradecoreGroup(click.Group):
    """Resolves built-in commands lazily and adds plugin commands after the global options."""

    def _plugin_commands(self, ctx: click.Context) -> None:
        obj = ctx.ensure_object(dict)
        if obj.get("plugin_commands_loaded"):
            return
        obj["plugin_commands_loaded"] = True
        for name in [n for n in self.commands if n not in BUILTIN_COMMANDS]:
            del self.commands[name]  # commands of an earlier invocation's plugins (tests, embedding)
        runtime = get_runtime(ctx)
        runtime.manager.call_each("tradecore_commands", cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._plugin_commands(ctx)
        return sorted(n for n in set(BUILTIN_COMMANDS) | set(self.commands) if self._builtin(n) or n in self.commands)

    def _builtin(self, name: str) -> click.Command | None:
        if name in BUILTIN_COMMANDS and name not in self.commands:
            module, _, attr = BUILTIN_COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return self.commands.get(name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._builtin(name)
        if name not in self.commands:
            self._plugin_commands(ctx)
        return self.commands.get(name)

    def invoke(self, ctx: click.Context) -> Any:
        """Turn user errors into one line each, and unexpected ones into one line plus a hint."""
        from tradecore.errors import TradecoreError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, KeyboardInterrupt):
            raise
        except TradecoreError as exc:
            if _verbose(ctx):
                raise
            raise UserError(str(exc)) from None
        except Exception as exc:
            if _verbose(ctx):
                raise
            from tradecore.plugins import one_line

            raise UserError(f"{one_line(exc)} (run with --verbose for the traceback)") from None


def get_runtime(ctx: click.Context) -> Any:
    """The process's Runtime, built once from the global options and the environment."""
    root = ctx.find_root()
    obj = root.ensure_object(dict)
    if "runtime" not in obj:
        from tradecore.runtime import Runtime

        opts = root.params  # parsed global options (set before the group callback runs)
        obj["runtime"] = Runtime.from_environment(
            disable=opts.get("disable", ()),
            allow=opts.get("only"),
            strict=opts.get("strict", False),
            trace=opts.get("trace", False),
            plugin_dirs=opts.get("plugins_dir", ()),
            no_plugins=opts.get("no_plugins", False),
        )
    return obj["runtime"]


def _split(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...] | None:
    names = tuple(n.strip() for v in value for n in v.split(",") if n.strip())
    return names if (names or param.name != "only") else None


#: the exit-code rule every command follows (shown under ``tradecore --help``; the README says the same)
EXIT_CODES = (
    "Exit codes: 0 done; 1 the input's content is wrong or the work failed (a manifest's content, a corrupt "
    "file, a failed fetch, a lake that cannot be read, no such run or job); 2 the command line is wrong "
    "(unknown option, a bad or inconsistent value: bad dates, start not before end, an unknown source, an "
    "invalid timeframe, a path that does not exist or is a directory where a file is needed); 130 "
    "interrupted (Ctrl-C, SIGTERM, SIGHUP). Errors are one line each, on stderr."
)


# plugin options are eager so that --help, processed eagerly too, sees the plugins they select
@click.group(cls=TradecoreGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="tradecore")
@click.option(
    "--disable",
    is_eager=True,
    multiple=True,
    callback=_split,
    metavar="NAMES",
    help="Disable plugins by name (comma-separated; also TRADECORE_DISABLE_PLUGINS).",
)
@click.option(
    "--only",
    is_eager=True,
    multiple=True,
    callback=_split,
    metavar="NAMES",
    help="Load only these plugins besides the built-ins (also TRADECORE_LOAD_PLUGINS).",
)
@click.option("--no-plugins", is_eager=True, is_flag=True, help="Load built-ins only.")
@click.option(
    "--plugins-dir",
    is_eager=True,
    multiple=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also load every *.py in DIR as a plugin (research; also TRADECORE_PLUGINS_DIR).",
)
@click.option("--strict", is_eager=True, is_flag=True, help="Re-raise plugin failures with their traceback.")
@click.option("--trace", is_eager=True, is_flag=True, help="Log every plugin hook call to stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """tradecore: reinforcement-learning research on crypto markets, from one JSON manifest."""
    ctx.ensure_object(dict)


class UserError(click.ClickException):
    """A one-line (per problem) error for the user: printed as ``error: ...``, exit code 1."""

    def show(self, file: Any = None) -> None:
        for line in self.format_message().splitlines() or ["unknown error"]:
            click.echo(f"error: {line}", err=True, file=file)


def _verbose(ctx: click.Context) -> bool:
    options = ctx.find_root().params
    return bool(options.get("verbose") or options.get("strict"))


def stop_like_ctrl_c() -> None:
    """Deliver SIGTERM (``kill``, a CI cancel) and SIGHUP (a closed terminal) as SIGINT, so they take the
    same path as Ctrl-C: whatever handles Ctrl-C at that moment (a trainer's checkpoint-then-stop, a
    backend's pod termination, a job's cursor save) handles them too."""
    import signal

    def forward(signum: int, frame: Any) -> None:
        signal.raise_signal(signal.SIGINT)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:  # leave a deliberate choice (nohup's SIG_IGN) alone
            signal.signal(signum, forward)


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``tradecore`` and ``python -m tradecore``); Ctrl-C, SIGTERM and SIGHUP exit 130."""
    import sys

    stop_like_ctrl_c()
    try:
        code = cli.main(args=argv, prog_name="tradecore", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # exit 2, one line: the problem, then where the help is
        where = f" (see `{exc.ctx.command_path} -h`)" if exc.ctx else ""
        click.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        shown = UserError(exc.format_message()) if type(exc) is click.ClickException else exc  # "error: ..."
        shown.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
