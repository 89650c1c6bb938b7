"""The money core: catalogue, orders and contracts, payment account, documents (ADR 0003).

Pure rules (``money``, ``catalogue``, ``pricing``, the billing run) import no asyncio, aiohttp
or database code; the shell (service, repository, routes) lives beside them.
"""
