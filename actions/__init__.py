"""Custom actions run by the Rasa action server (`python -m actions`, server.py).

One module per concern; each action is a thin layer over plain functions that
tests call directly.
"""
