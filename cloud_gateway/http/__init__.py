"""The gateway's one web layer.

Authentication and sessions (``auth``), the password and terms gate (``gate``), the JSON API's
plumbing (``api``: who asks, CSRF for writes, the access check), the one JSON error shape and
its codes with the middleware that maps domain errors to HTTP (``errors``), the OpenAPI
document (``openapi``), the access rule ``can(actor, action, object)`` (``access``), pages and
security headers (``pages``), safe redirects (``redirects``).
"""
