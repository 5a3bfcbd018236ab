"""The processes around the core: service settings, migrations, logs, supervision and worker lifelines."""
