"""`python -m widget`: serves the demo portal page with the chat widget."""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from widget.server import WidgetConfigError, make_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m widget", description="Demo portal page with the chat widget"
    )
    parser.add_argument("--host", default=os.environ.get("WIDGET_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WIDGET_PORT") or 8080))
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("WIDGET_RASA_URL") or "http://localhost:5005",
        help="the Rasa server as the visitor's browser reaches it (its socketio channel)",
    )
    args = parser.parse_args(argv)
    try:
        app = make_app(args.rasa_url)
    except WidgetConfigError as error:
        parser.exit(2, f"python -m widget: {error}\n")

    def announce(_: str) -> None:
        print(f"Portal widget: http://{args.host}:{args.port}/ (Rasa: {args.rasa_url})", flush=True)

    web.run_app(
        app, host=args.host, port=args.port, print=announce, access_log=None, shutdown_timeout=1.0
    )


if __name__ == "__main__":
    main()
