"""DATABASE_URL: PostgreSQL connections prepare the statements they repeat, unless told not
to (a pooler in transaction mode can't keep prepared statements)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql.base import DatabaseWrapper

from storyboard_site.settings import database_from_url
from tests.support.scaled import PG, postgres_available


def prepared_after_repeating_a_statement() -> int:
    # A connection opened exactly as Django opens one from these settings (pytest-django
    # guards Django's own connections, not this one).
    wrapper = DatabaseWrapper({**database_from_url(PG), "TIME_ZONE": None}, alias="check")
    connection = wrapper.get_new_connection(wrapper.get_connection_params())
    try:
        with connection.cursor() as cursor:
            for job_id in range(3):
                cursor.execute("SELECT %s::bigint + 1", [job_id])
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            (prepared,) = cursor.fetchone()
    finally:
        connection.close()
    return prepared


@pytest.mark.parametrize(("switch", "prepared"), [("", True), ("false", False)])
def test_it_prepares_repeated_statements_on_postgresql(monkeypatch, switch, prepared):
    if not postgres_available():
        pytest.skip("PostgreSQL is not answering (set STORYBOARD_TEST_POSTGRES)")
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", switch)

    assert (prepared_after_repeating_a_statement() > 0) is prepared


def test_it_fails_loudly_on_a_bad_switch(monkeypatch):
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARED_STATEMENTS"):
        database_from_url("postgresql://u:p@db:5432/storyboard")
