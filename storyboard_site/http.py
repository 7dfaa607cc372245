from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """What views behind login_required get, with django-htmx's details, for type checks."""

    user: User
    htmx: HtmxDetails
