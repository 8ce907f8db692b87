"""The append-only audit log: who did what, for whom, and why."""
