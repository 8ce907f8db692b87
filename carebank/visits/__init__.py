"""Visits: each dated visit of a care plan (or a one-off exchange), from schedule to credit."""
