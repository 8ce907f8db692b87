"""Member cards: printed cards with a QR and a PIN for residents without a phone."""
