"""Schema migrations with Alembic, driven from code so `python -m bot db upgrade` needs no ini file."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.config import ROOT, Settings


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    # configparser treats % as interpolation; URLs may contain it in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head", *, settings: Settings | None = None) -> None:
    """Create or migrate the schema at `database_url` to `revision`.

    Migrations that convert stored personal data use the keys in `settings` (without them, they
    read the settings as every entry point does).
    """
    config = alembic_config(database_url)
    config.attributes["settings"] = settings
    command.upgrade(config, revision)
