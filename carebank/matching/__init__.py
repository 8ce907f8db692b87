"""Matching: ranking the open posts that could answer a need or an offer."""
