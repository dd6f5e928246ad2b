"""Second factors (issue 15): TOTP, recovery codes, passkeys, remembered browsers.

May import models, extensions and the other service packages; never a blueprint.
"""
