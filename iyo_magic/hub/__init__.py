"""iyo_magic on a JupyterHub class: the class's ItsYou.online key stays in the hub.

``configure_class(c, ...)`` in ``jupyterhub_config.py`` sets up one of two ways (docs/jupyterhub.md):

* ``hub_login=True``: the hub logs users in with ItsYou.online (`IyoOAuthenticator`) and hands each
  user's server that user's own refreshable JWT;
* ``hub_login=False``: a hub service (``iyo_magic.hub.broker``) runs the Authorization Code flow
  for the users' kernels, checks that the browser is the hub user who started each login, and
  hands the access token to that user's kernel only.

This package runs in the hub and its service, never in a user's kernel.
"""

from .config import configure_class

__all__ = ["configure_class"]
