"""`python -m console serve | add-user | passwd | disable-user | enable-user | list-users`.

Accounts are made here, on the server, never through the web page: there is
no sign-up and no default password.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from aiohttp import web

from console.accounts import Accounts
from console.server import Settings, make_app


def _password(args: argparse.Namespace) -> str:
    """From stdin (scripts, tests) or typed twice at a prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mật khẩu (≥ 10 ký tự): ")
    if getpass.getpass("Nhập lại mật khẩu: ") != first:
        raise ValueError("passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the console's web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    for name in ("add-user", "passwd"):
        command = commands.add_parser(name)
        command.add_argument("username")
        command.add_argument("--password-stdin", action="store_true")
        if name == "add-user":
            command.add_argument("--name", default="", help="display name, e.g. 'Nguyễn Thị Lan'")
    for name in ("disable-user", "enable-user"):
        commands.add_parser(name).add_argument("username")
    commands.add_parser("list-users")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if args.command == "serve":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        web.run_app(make_app(settings), host=args.host, port=args.port, print=None)
        return 0
    accounts = Accounts(settings.db)
    try:
        if args.command == "add-user":
            user = accounts.add_user(args.username, args.name, _password(args))
            print(f"created {user.username} ({user.name}) in {settings.db}")
        elif args.command == "passwd":
            accounts.set_password(args.username, _password(args))
            print(f"password changed for {args.username}; their sessions ended")
        elif args.command in ("disable-user", "enable-user"):
            accounts.set_disabled(args.username, args.command == "disable-user")
            print(f"{args.username}: {args.command.split('-')[0]}d")
        else:
            for username, name, disabled in accounts.users():
                print(f"{username}\t{name}\t{'disabled' if disabled else 'active'}")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
