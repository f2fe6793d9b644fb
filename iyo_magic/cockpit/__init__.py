"""The Cockpit client: a `requests.Session` on the AYS API, its 35 operations, their results."""
