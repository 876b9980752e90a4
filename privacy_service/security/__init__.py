"""Officer accounts, roles, API keys and scopes, CSRF, rate limits and security headers."""
