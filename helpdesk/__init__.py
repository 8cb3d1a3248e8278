"""The back office the bot and the hotline console share.

db      the SQLite helper (one short connection a call, WAL)
desk    handoff tickets and their messages, votes, complaints, questions the bot
        could not answer, and the question bank's learned pairs
search  the process's searcher over the catalogue, with what staff taught it
"""
