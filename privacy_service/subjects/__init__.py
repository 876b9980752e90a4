"""The data subject's own pages: login with OpenID Connect (ID-porten, HelseID) and Min side (DESIGN.md §7).

It reads dsar and consent through their services; nothing imports it. Other blueprints find the logged-in
subject on `flask.g.subject`, which this package's views set on every request.
"""
