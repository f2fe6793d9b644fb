"""Keeping a JWT fresh (the keeper) and the `requests` auth over it (`IyoAuth`)."""
