"""The hotline staff console: one web page for looking procedures up while a
citizen is on the phone, checking an application's status, and picking up
conversations the bot handed over. The server (server.py) wires sign-in,
sessions and CSRF (auth.py) to the JSON resources (handlers.py); staff
accounts (accounts.py); search-hit highlighting (highlight.py); the page's
ES modules (static/main.js and its imports). `python -m console --help`."""
