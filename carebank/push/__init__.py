"""Web Push (RFC 8030, VAPID RFC 8292, aes128gcm RFC 8291): the phones that asked for
notifications, the server's VAPID key, and sending a notification to a member's phones."""
