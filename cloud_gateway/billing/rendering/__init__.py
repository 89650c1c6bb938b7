"""Documents as their customer sees them: EN 16931 CII XML, PDF/A-3 page, GiroCode.

The input is a :class:`~cloud_gateway.billing.rendering.view.DocumentView`, a frozen picture of a
finalised (or pro-forma) document; rendering is pure and never changes it.
"""
