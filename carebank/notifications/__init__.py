"""Notifications: what a member must hear about, written in the same transaction as the change
(the outbox) and shown in the member's inbox; push, e-mail and the centre's call list deliver
them from there."""
