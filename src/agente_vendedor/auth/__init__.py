"""Staff users, roles and access tokens."""
