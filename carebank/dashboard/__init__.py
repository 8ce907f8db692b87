"""The centre's dashboard: what needs the coordinator today, and exchanges waiting for a visit."""
