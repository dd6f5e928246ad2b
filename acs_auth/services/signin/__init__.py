"""Sign-in and sessions: credentials checked, lockout counted, sessions opened and ended.

Browser and API sign-in (authentication), the auth-session rows (sessions), API token pairs
and refresh (refresh, jwt_tokens), who is calling the API (api_auth, credential_lookup), API
keys and their quotas (api_keys, api_quota), and recent activity (activity). It may import
models, extensions, the text and audit services, accounts.passwords (the password check),
programs.access, and the mail outbox and notices; never views, blueprints or forms.
"""
