"""`python -m actions --port 5055`: the action server (rasa-sdk's arguments),
with the search index loaded as each worker starts (actions/server.py)."""

from actions.server import main

if __name__ == "__main__":  # Sanic's workers import this module again: only the first runs
    main()
