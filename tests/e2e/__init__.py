"""End-to-end suites: the app served by gunicorn, driven by a browser and by HTTP clients."""
