"""The typed models of the API: what each endpoint accepts and answers.

One module per group of views (``auth``, ``account``, ``admin``, ``catalogue``, ``meta``); the
shared field types and base classes are in ``fields``. spectree validates every request and
response with these models and generates the OpenAPI 3.1 document from them
(acs_auth.api.contract, acs_auth.api.openapi), so the document cannot drift from the code.
May import the services' constants (roles, key scopes) and acs_auth.messages, nothing else.
"""
