"""The database layer (mirrors ``nova/db/``): models, queries, migrations."""
