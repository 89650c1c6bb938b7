"""The gateway's one web layer.

Authentication and sessions (``auth``), the password and terms gate (``gate``), the JSON API's
plumbing (``api``: who asks, CSRF for writes, the access check), the one JSON error shape and
its codes with the middleware that maps domain errors to HTTP (``errors``), the OpenAPI
document (``openapi``), every application key (``keys``), pages and security headers
(``pages``), safe redirects (``redirects``). The access rule ``can(actor, action, object)``
is pure and lives in :mod:`cloud_gateway.accounts.access`; ``api.check`` is its one web door.
"""
