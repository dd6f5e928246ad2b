"""Text rules with no state: email addresses, people's names, control characters.

Address normalisation and lookalike checks (addresses), name folding (names) and the
control-character rule (characters). Plain functions on strings: it imports no other part of
acs_auth, so every layer may use it.
"""
