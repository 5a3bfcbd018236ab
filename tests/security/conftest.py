"""Fixtures for the threats in this package.

The running assistant (`stack`, `production_stack`) is the end-to-end tests' own fixture, imported
so attacks go through the same processes the end-to-end tests start.
"""

from tests.e2e.conftest import production_stack, stack, trained_model  # noqa: F401
