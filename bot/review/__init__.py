"""The staff side: accounts, the review queue, flags, transcripts, the audit log and overview figures."""
