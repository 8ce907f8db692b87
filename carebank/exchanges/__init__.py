"""Exchanges: a response to a post, accepted or declined, that visits are confirmed against."""
