"""Text rules with no state: email addresses, people's names, control characters.

Address normalisation and lookalike checks (addresses), name folding (names) and the
control-character rule (characters). Plain functions on strings: of acs_auth it imports only
messages (the texts of its errors), so every layer may use it, models included.
"""
