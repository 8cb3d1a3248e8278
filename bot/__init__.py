"""The Rasa side of the assistant, by concern.

- `bot.language`: Vietnamese text (normalising, folding, word segmentation);
  plain Python that the action server, the index and the console share.
- `bot.components`: Rasa graph components named in config.yml (tokenizer, policies).
- `bot.channels`: the channels named in credentials.yml (Socket.IO widget, Zalo OA).
"""
