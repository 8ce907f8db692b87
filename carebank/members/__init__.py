"""Members: sign-up, log-in, profiles, residents registered by a centre, and acting for them."""
