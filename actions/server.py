"""The action server: rasa-sdk's Sanic app, plus loading the search index as a
worker starts.

Importing the actions loads nothing: Sanic's main process (which only supervises
its workers) and the unit tests stay small. Each worker starts loading once it
serves: Sanic kills the whole process group when a worker has not reported
ready within 30 s, which a busy two-core machine can reach while loading the
national index. A question that comes first waits for the load. A plain
`python -m rasa_sdk --actions actions` also works; the index then loads on the
first question.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from functools import partial

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.worker.loader import AppLoader

from helpdesk.search import warm_up

logger = logging.getLogger(__name__)


def create_app(executor: ActionExecutor, args: argparse.Namespace) -> Sanic:
    """rasa-sdk's app for one worker, loading the index as soon as it serves."""
    app = create_app_for_serve(
        executor, cors_origins=args.cors, auto_reload=args.auto_reload, endpoints=args.endpoints
    )
    app.register_listener(load_search, "after_server_start")
    return app


async def load_search(_: Sanic) -> None:
    """Loads the catalogue's index on a thread of its own: the worker answers
    meanwhile, and stopping it mid-load stops it cleanly. A failure is logged and
    answered per question ("the lookup is unavailable"), never a crash."""
    threading.Thread(target=warm_up, name="search-load", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    """Runs the server like `python -m rasa_sdk`, on loopback unless SANIC_HOST says otherwise."""
    parser = create_argument_parser()
    args = parser.parse_args(argv)
    if args.grpc:
        parser.error("--grpc: run `python -m rasa_sdk --grpc` (this server speaks HTTP)")
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions or "actions")
    loader = AppLoader(factory=partial(create_app, executor, args))
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    logger.info("action server on http://%s:%s", host, args.port)
    ssl = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    app.prepare(host=host, port=args.port, ssl=ssl, workers=utils.number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)
