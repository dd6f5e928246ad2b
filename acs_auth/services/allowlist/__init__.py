"""The allowlist: who may register, imported from the organisation's CSV.

Parsing and writing the file (csvfile), preview and apply (imports, with bulk statements in
bulk), staged uploads awaiting confirmation (uploads), the entries as the admin sees them
(entries), what leaving or rejoining the list does to an account (lifecycle) and the programs
an administrator set by hand that an import would replace (edits). It may import models,
extensions, messages, the text, audit and programs services, signin.sessions,
accounts.registration and mail.letters (invitations), accounts.user_admin (the search rules)
and paging; never views, blueprints or forms.
"""
