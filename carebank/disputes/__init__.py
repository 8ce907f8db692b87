"""Disputes: a member reports a problem with an exchange and the centre settles it."""
