"""Rasa graph components that config.yml names: the Vietnamese tokenizer and the gate policy."""
