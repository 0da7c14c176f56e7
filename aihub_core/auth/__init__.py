"""Credentials: password hashes, access tokens (JWT), API keys and the signing secret."""
