"""Text rules with no state: email addresses, people's names, identifiers, control characters.

Address normalisation, lookalike checks and EMAIL_MAX (addresses), name folding and NAME_MAX
(names), username and LO Root ID patterns and the one in-code form of a person's programs
(identifiers), and the control-character rule and PASSWORD_MAX (characters). Plain functions
on strings: of acs_auth it imports only messages (the texts of its errors), so every layer may
use it, models included.
"""
