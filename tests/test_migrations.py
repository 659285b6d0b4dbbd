"""Every migration of ours can run while the previous release still serves (docs/deploy.md).

django-migration-linter reads the SQL of each migration (`sqlmigrate`) and flags what breaks
code that is still running during a rolling or blue-green deploy: dropping or renaming a
column or table, adding a NOT NULL column without a database default. It lints PostgreSQL's
SQL, the production database: on SQLite, Django rebuilds a table to alter it, which the
linter would report as errors that never happen in production.
"""

import io
from contextlib import redirect_stdout

import pytest
from django.apps import apps
from django_migration_linter import MigrationLinter
from django_migration_linter.sql_analyser import analyse_sql_statements, get_sql_analyser_class

OUR_APPS = sorted(config.label for config in apps.get_app_configs() if config.name.startswith("apps."))


def test_every_migration_of_our_apps_is_backward_compatible(postgres):
    linter = MigrationLinter(include_apps=OUR_APPS, no_cache=True)
    output = io.StringIO()
    with redirect_stdout(output):
        linter.lint_all_migrations()
        linter.print_summary()

    assert linter.nb_total > 0, output.getvalue()
    assert not linter.has_errors, output.getvalue()


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ('ALTER TABLE "orders_order" DROP COLUMN "note" CASCADE;', "DROP_COLUMN"),
        ('ALTER TABLE "orders_order" RENAME COLUMN "note" TO "comment";', "RENAME_COLUMN"),
        ('ALTER TABLE "orders_order" ADD COLUMN "channel" varchar(16) NOT NULL;', "NOT_NULL"),
        ('DROP TABLE "orders_order" CASCADE;', "DROP_TABLE"),
    ],
)
def test_the_linter_rejects_a_migration_that_breaks_the_running_release(sql, code):
    errors, _ignored, _warnings = analyse_sql_statements(get_sql_analyser_class("django.db.backends.postgresql"), [sql])

    assert [error.code for error in errors] == [code]
