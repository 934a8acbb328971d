"""`edgehost` command line: the parser, built from each command module's table, and dispatch.

Each command's options are declared beside its handler (`project_commands`, `admin_commands`,
`serve`); `cli/commands.py` says how a table entry becomes a subcommand.

Every failure is a CliError: one clear line on stderr (plus detail lines) and exit status 1.
The host URL and API key come from --url/--api-key, then EDGEHOST_URL/EDGEHOST_API_KEY, then
the config saved by `edgehost auth api-key set`.
"""

from __future__ import annotations

import argparse
import sys

from edgehost import __version__
from edgehost.cli import admin_commands, project_commands, serve
from edgehost.cli.commands import add_commands
from edgehost.cli.errors import CliError
from edgehost.cli.settings import resolve

# In the order `edgehost --help` lists them.
COMMANDS = (serve.COMMAND, *project_commands.COMMANDS, *admin_commands.COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgehost",
        description="Self-hosted, WebAssembly-sandboxed function host with stateful actors.")
    parser.add_argument("--version", action="version", version=f"edgehost {__version__}")
    add_commands(parser, COMMANDS, dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve.serve(args)
    target = resolve(getattr(args, "url", None), getattr(args, "api_key", None))
    try:
        return args.handler(args, target)
    except CliError as e:
        print(f"edgehost: {e.message}", file=sys.stderr)
        for detail in e.details:
            print(f"  {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
