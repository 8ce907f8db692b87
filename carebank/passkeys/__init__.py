"""Signing in without a password: passkeys (WebAuthn) and the member card with its PIN."""
