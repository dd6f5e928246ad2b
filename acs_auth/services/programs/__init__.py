"""Programs: the catalogue of LO Root IDs and which of them a person may use.

The catalogue with its CSV import/export (catalogue) and a person's programs and where each
opens (access). It may import models, extensions, messages, the text and audit services and
allowlist.csvfile; never views, blueprints or forms.
"""
