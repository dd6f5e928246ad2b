"""Services: the logic that views, the API and the CLI share; one unit of work per call."""
