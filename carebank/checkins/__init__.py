"""Card check-ins: a carer records a visit with a resident's card and PIN, or the centre approves it."""
