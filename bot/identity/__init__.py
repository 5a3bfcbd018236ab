"""Who a person is before anything is disclosed or changed: ID numbers, checks, one-time codes, privacy."""
