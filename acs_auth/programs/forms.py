"""The programs pages have no forms: selection is by link, access is decided per request."""
