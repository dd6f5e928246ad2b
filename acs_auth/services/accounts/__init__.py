"""Accounts: what a person or an administrator does to an account.

Self-service and administration (accounts, user_admin, user_access), passwords and their
policy (passwords, password_strength), emailed-link flows (recovery, registration,
email_change) and the tokens they carry (tokens). It may import models, extensions, the text and
audit services, signin (authentication, sessions, keys), mail (outbox, notices) and
allowlist.lifecycle; never views, blueprints or forms.
"""
