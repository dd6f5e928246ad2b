"""Accounts: what a person or an administrator does to an account.

Self-service and administration (accounts, user_admin, user_access), passwords and their
policy (passwords, password_strength), emailed-link flows (recovery, registration,
email_change) and the tokens they carry (tokens). It may import models, extensions, the text,
audit and programs services, signin (sessions, keys), the mail outbox and
allowlist.lifecycle; never views, blueprints or forms.
"""
