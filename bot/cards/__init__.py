"""Cardholders, cards and their statuses, loss reports and unblocking, the bureau's CSV import."""
