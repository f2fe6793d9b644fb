"""The Authorization Code flow's browser step and the browser's ways back to the kernel (the
loopback listener, a pasted address, the Jupyter server's callback page)."""
