"""Password guessing is throttled: after a few wrong passwords the login is refused for a
while, with a page that says for how long, even for the right password."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client


def log_in(c: Client, username: str, password: str, address: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    return c.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_it_locks_a_username_after_five_failures_then_lets_it_in_after_the_cool_off(user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    guesser = Client()
    for _ in range(4):
        r = log_in(guesser, "alice", "wrong-guess")
        assert r.status_code == 200 and "didn" in r.content.decode()
    locked = log_in(guesser, "alice", "wrong-guess")
    assert locked.status_code == 429
    assert "Too many failed logins: try again in 15 minutes." in locked.content.decode()

    # The right password is refused too while locked, and nobody is logged in.
    r = log_in(guesser, "alice", "password-alice")
    assert r.status_code == 429
    assert guesser.get("/").status_code == 302

    # The same username from another address, and another username, are not locked.
    assert log_in(Client(), "alice", "password-alice", "198.51.100.2").status_code == 302

    # Once the cool-off has passed, the right password works.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert log_in(guesser, "alice", "password-alice").status_code == 302
    assert guesser.get("/").status_code == 200


def test_the_page_counts_down_from_the_last_try(user):
    c = Client()
    for _ in range(5):
        log_in(c, "alice", "wrong")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=11)
    )
    # A refused try during the lockout doesn't restart the clock.
    assert "try again in 4 minutes." in log_in(c, "alice", "wrong").content.decode()


@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "12345678901234", "alice-example"],
)
def test_it_refuses_weak_passwords(user, password: str):
    with pytest.raises(ValidationError):
        validate_password(password, user)
    validate_password("correct horse battery staple", user)
