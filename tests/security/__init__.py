"""One file per threat: what an attacker on the host or its network could try, and that it fails."""
