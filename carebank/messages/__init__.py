"""Messages between the two people of an exchange, and the phone numbers they choose to share."""
