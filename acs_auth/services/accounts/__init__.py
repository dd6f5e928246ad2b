"""Accounts: what a person or an administrator does to an account.

Self-service and administration (accounts, user_admin, user_access), the users page search
(user_search), passwords and their policy (passwords, password_strength), emailed-link flows
(recovery, registration, email_change) and the tokens they carry (tokens). Which email fits
whom is mail.letters; an account is signed in through signin.seam. It may import models,
extensions, messages, the text and audit services, signin (the seam, authentication, sessions,
api_keys), factors (remembered browsers and the admin's factor filter), mail (letters, outbox,
notices), paging and allowlist.lifecycle; never views, blueprints or forms.
"""
