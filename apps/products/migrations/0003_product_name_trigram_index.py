"""A trigram index for the catalog's ?search= (PostgreSQL only: SQLite, stage 1, has no GIN).

`name__icontains` is what the search filter runs, and PostgreSQL runs it as
`UPPER("name"::text) LIKE UPPER('%term%')`: the index is on that very expression, with pg_trgm's
operator class, so the planner can use it for any substring of 3 characters or more instead of
reading every active product. It is raw SQL because Django builds an expression index with an
operator class only with django.contrib.postgres installed, which the kit does not need otherwise.

CREATE INDEX CONCURRENTLY: the catalog keeps taking writes while the index builds, so the
migration is not atomic. pg_trgm is a trusted extension: the database owner can create it.
"""

from django.db import migrations

INDEX = "products_name_trgm_idx"


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL that other databases skip."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("products", "0002_product_import"),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            sql="CREATE EXTENSION IF NOT EXISTS pg_trgm",
            reverse_sql=migrations.RunSQL.noop,  # other objects may use it; dropping it is a DBA's call
        ),
        RunSQLOnPostgreSQL(
            sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{INDEX}" ON "products_product" '
            'USING gin ((UPPER("name"::text)) gin_trgm_ops)',
            reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"',
        ),
    ]
