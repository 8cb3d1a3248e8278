"""The portal's chat widget and a demo "Cổng Dịch vụ công" page to try it on.

The widget (static/chat.js, static/chat.css) is plain browser code with no
build step: it talks to Rasa's socketio channel with the socket.io client that
npm installs into node_modules/ (see package.json). server.py serves the page,
the widget and that client from this machine only, so the page loads nothing
from the internet. `python -m widget --port 8080 --rasa-url http://localhost:5005`.
"""
