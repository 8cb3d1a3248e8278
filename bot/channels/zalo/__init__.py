"""Zalo Official Account connector: the webhook in, the OA message API out.

`ZaloInput` is the Rasa custom channel (credentials.yml names
`bot.channels.zalo.ZaloInput`); the modules beside it are plain functions and classes
that tests use without a Rasa server:

- `signature`: the X-ZEvent-Signature check.
- `render`: buttons as a numbered list, numeric replies back to payloads, and
  splitting at Zalo's 2,000-character limit.
- `store`: what several Rasa processes must share (seen msg_ids, the tokens,
  the refresh lease, the numbered buttons): SQLite by default, Redis when set.
- `api`: the OA message API with the single-use refresh-token dance.
"""

from bot.channels.zalo.channel import ZaloInput, ZaloOutput

__all__ = ["ZaloInput", "ZaloOutput"]
