"""`edgehost` command line: argument parsing and dispatch to one function per command.

Every failure is a CliError: one clear line on stderr (plus detail lines) and exit status 1.
The host URL and API key come from --url/--api-key, then EDGEHOST_URL/EDGEHOST_API_KEY, then
the config saved by `edgehost auth api-key set`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgehost import __version__
from edgehost.cli import admin_commands, project_commands
from edgehost.cli.errors import CliError
from edgehost.cli.settings import resolve


def _client_options(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    group = parser.add_argument_group("host")
    group.add_argument("--url", help="the host's address [EDGEHOST_URL, saved config, "
                                     "http://127.0.0.1:8787]")
    group.add_argument("--api-key", help="the account's API key [EDGEHOST_API_KEY, saved config]")
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _from_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--from-dir", type=Path, default=Path("."), metavar="DIR",
                        help="the project folder (the one with telnyx.toml) [.]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgehost",
        description="Self-hosted, WebAssembly-sandboxed function host with stateful actors.")
    parser.add_argument("--version", action="version", version=f"edgehost {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_: str, handler, description: str | None = None):
        sub = commands.add_parser(name, help=help_, description=description or help_)
        sub.set_defaults(handler=handler)
        return sub

    from edgehost.cli.serve import add_serve_arguments
    serve = command("serve", "run the host",
                    None, "Run the host: the admin API and function traffic on one HTTP port.")
    add_serve_arguments(serve)

    dev = command("dev", "local host for a project: build + ship on start and on every save",
                  project_commands.dev,
                  "Start a private host whose state lives in DIR/.edgehost-dev (it survives "
                  "reloads), build and ship the project, then rebuild and reship on every save.")
    dev.add_argument("-f", "--from-dir", dest="from_dir_list", type=Path, action="append",
                     metavar="DIR", help="project folder; repeat to ship several [.]")
    dev.add_argument("--port", type=int, default=8788, help="port of the dev host [8788]")
    dev.add_argument("--poll", type=float, default=0.5, help="seconds between checks [0.5]")

    new = command("new-func", "scaffold a function project and register it with the host",
                  project_commands.new_func,
                  "Create ./NAME with telnyx.toml, src/index.ts, package.json (and with --actor "
                  "a sample actor class in its own file), register the function with the host "
                  "and write its func_id into telnyx.toml. Refuses an existing folder.")
    new.add_argument("--name", required=True, help="function name (a-z, 0-9, '-')")
    new.add_argument("--actor", action="store_true", help="include a sample actor class")
    new.add_argument("--type", help="actor class name [from --name: account -> Account]")
    new.add_argument("--binding", help="binding name [from the type: Account -> ACCOUNT]")
    new.add_argument("--dir", type=Path, help="create the folder under DIR [.]")
    _client_options(new)

    build = command("build", "build the project's module (npm install on first use)",
                    project_commands.build)
    _from_dir(build)
    build.add_argument("--json", action="store_true", help="print JSON for scripts")

    ship = command("ship", "build, upload and print the live URL", project_commands.ship,
                   "Build the project and ship it as the function's next revision. Without "
                   "[edge_compute] func_id in telnyx.toml the function is found or created by "
                   "name and its func_id written back.")
    _from_dir(ship)
    ship.add_argument("--no-build", action="store_true", help="upload the existing build")
    _client_options(ship)

    types = command("types", "generate src/env.ts: typed stubs for the manifest's bindings",
                    project_commands.types)
    _from_dir(types)
    types.add_argument("--out", type=Path, help="output file [DIR/src/env.ts]")
    _client_options(types)

    listing = command("list", "list this account's functions", admin_commands.list_functions)
    _client_options(listing)

    inspect = command("inspect", "show a function: revision, URLs, bindings and their owners",
                      admin_commands.inspect)
    inspect.add_argument("ref", nargs="?", help="name or func_id [the project in -f DIR]")
    inspect.add_argument("-f", "--from-dir", type=Path, metavar="DIR")
    _client_options(inspect)

    delete = command("delete-func", "delete a function and its revisions",
                     admin_commands.delete_func)
    delete.add_argument("ref", nargs="?", help="name or func_id [the project in -f DIR]")
    delete.add_argument("-f", "--from-dir", type=Path, metavar="DIR")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    _client_options(delete)

    auth = commands.add_parser("auth", help="manage the saved API key",
                               description="Manage the saved API key.")
    auth_cmds = auth.add_subparsers(dest="auth_command", metavar="SUBCOMMAND", required=True)
    api_key = auth_cmds.add_parser("api-key", help="set or check the API key",
                                   description="Set or check the API key.")
    key_cmds = api_key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    key_set = key_cmds.add_parser("set", help="save a key (argument or stdin) and optional URL",
                                  description="Save an API key, and optionally the host URL, "
                                              "to the config file (mode 0600).")
    key_set.add_argument("key", nargs="?", help="the key [read from stdin]")
    key_set.add_argument("--url", help="also save the host URL")
    key_set.add_argument("--json", action="store_true", help="print JSON for scripts")
    key_set.set_defaults(handler=admin_commands.auth_set, api_key=None)
    key_status = key_cmds.add_parser("status", help="which key is used and whom it belongs to",
                                     description="Show which host and key the CLI would use, "
                                                 "where the key comes from, and its account.")
    _client_options(key_status)
    key_status.set_defaults(handler=admin_commands.auth_status)

    accounts = commands.add_parser("accounts", help="manage accounts (admin key)",
                                   description="Manage accounts (needs the admin key).")
    account_cmds = accounts.add_subparsers(dest="accounts_command", metavar="ACTION",
                                           required=True)
    create = account_cmds.add_parser("create", help="create an account; prints its key once",
                                     description="Create an account and print its API key "
                                                 "(shown once).")
    create.add_argument("name")
    _client_options(create)
    create.set_defaults(handler=admin_commands.accounts_create)

    actors = commands.add_parser("actors", help="actor types and instances on this account",
                                 description="Actor types and instances on this account.")
    actor_cmds = actors.add_subparsers(dest="actors_command", metavar="ACTION", required=True)
    a_list = actor_cmds.add_parser("list", help="types, owners, methods and bindings",
                                   description="List actor types with owners and bindings.")
    _client_options(a_list)
    a_list.set_defaults(handler=admin_commands.actors_list)
    a_inspect = actor_cmds.add_parser("inspect", help="one type: owner, methods, activations",
                                      description="Show one actor type.")
    a_inspect.add_argument("type")
    _client_options(a_inspect)
    a_inspect.set_defaults(handler=admin_commands.actors_inspect)
    a_inst = actor_cmds.add_parser("instances", help="instance names of a type",
                                   description="List instance names of a type (those that "
                                               "stored anything, and live ones).")
    a_inst.add_argument("type")
    a_inst.add_argument("--limit", type=int, default=100, help="at most this many [100]")
    a_inst.add_argument("--after", help="start after this name (paging)")
    _client_options(a_inst)
    a_inst.set_defaults(handler=admin_commands.actors_instances)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from edgehost.cli.serve import serve

        return serve(args)
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
