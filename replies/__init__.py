"""What the bot says, as plain functions both programs use: the action server's replies
and the hotline console's copy-ready texts are one wording. No Rasa here.

    procedure  answer texts from a catalogue procedure (papers, fee, time, where, online)
    status     an application's status, due date, next step; reading a typed code
    hotline    the number to call when a person should take over
"""
