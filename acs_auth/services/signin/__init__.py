"""Sign-in and sessions: the one seam every entrance signs in through, and what it opens.

The seam (seam: first factor, pending sign-in, second factor, session; its browser side in
browser), the first-factor check with atomic lockout counting (authentication), pending
sign-ins waiting for a second factor (pending) and the one question a second factor answers
(second_factor), the auth-session rows (sessions), API token pairs and refresh (refresh,
jwt_tokens), who is calling the API (api_auth, credential_lookup), API keys and their quotas
(api_keys, api_quota), and recent activity (activity). It may import models, extensions, the
text and audit services, accounts.passwords (the password check and its fingerprint),
programs.access, and the mail outbox and notices; never views, blueprints or forms.
"""
