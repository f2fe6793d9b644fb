"""ItsYou.online's OAuth: the login request, the grants, the endpoints, the one HTTP transport, the
URL policy, the JWT's renewal. No IPython, no widgets."""
