"""The hotline staff console: one web page for looking procedures up while a
citizen is on the phone, checking an application's status, and picking up
conversations the bot handed over (server.py); staff accounts (accounts.py);
search-hit highlighting (highlight.py). `python -m console --help`."""
