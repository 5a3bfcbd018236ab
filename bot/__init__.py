"""Shared core of the social security card assistant: domain rules, database and CLI."""
