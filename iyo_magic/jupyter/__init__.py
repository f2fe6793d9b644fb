"""The Jupyter server extension: the browser's way back through the user's Jupyter server."""
