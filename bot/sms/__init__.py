"""Outbound SMS: the outbox written with each change, its worker, senders and wording."""
