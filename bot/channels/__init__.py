"""Input channels that credentials.yml names: the widget's Socket.IO and Zalo OA."""
