"""Confirmation codes: the QR one party shows after a visit and the other scans to credit it."""
