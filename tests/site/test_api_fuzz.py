"""Random bodies, ids, methods and headers against every operation of the OpenAPI
description, authenticated as the owner (token or session) most of the time and with
another user's project and export ids among the ids: never a 500, every error JSON, never a
change to another user's data."""

import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ApiToken
from exports.models import Export, ExportStatus
from generation.models import GenerationRun
from projects.models import Project, Sentence

SPEC = json.loads((Path(__file__).parents[2] / "generation" / "openapi.json").read_text())
OPERATIONS = [
    (path, method.upper()) for path, ops in SPEC["paths"].items() for method in ops
]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
stage_names = st.sampled_from(["audio", "images", "videos", "image", "", "AUDIO", "vídeos"])
bodies = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {},
        optional={
            "stages": st.lists(stage_names, max_size=4) | json_values,
            "skipClean": st.booleans() | json_values,
            "captions": st.booleans() | json_values,
            "standins": st.booleans() | json_values,
        },
    ).map(json.dumps),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
)


def api_routes() -> set[str]:
    """Every URL pattern under /api/, written as the OpenAPI paths are."""

    def walk(patterns: list, prefix: str = "") -> set[str]:  # type: ignore[type-arg]
        found: set[str] = set()
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                found |= walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("api/"):
                found.add("/" + route.replace("<int:", "{").replace(">", "}"))
        return found

    return walk(get_resolver().url_patterns)


def test_the_description_covers_every_api_endpoint():
    assert api_routes() == set(SPEC["paths"])


@pytest.mark.django_db
def test_it_never_fails_or_touches_another_users_project(user, make_project, other_user):
    mine = make_project(3)
    theirs = make_project(["Their first scene.", "Their second."], owner=other_user)
    their_export = Export.objects.create(project=theirs, status=ExportStatus.QUEUED)
    my_export = Export.objects.create(project=mine, status=ExportStatus.SUCCEEDED)
    token = ApiToken(user=user, name="fuzz")
    key = token.new_key()
    token.save()
    before = list(theirs.sentences.values())
    project_ids = st.sampled_from([mine.id, mine.id, theirs.id, 0, 999_999]) | st.integers(1, 2**70)
    export_ids = st.sampled_from([my_export.id, their_export.id, 0]) | st.integers(1, 2**70)
    # Mostly the owner (token or session), so requests get past authentication.
    auth = st.sampled_from(
        [f"Bearer {key}"] * 3 + ["session"] * 3 + ["Bearer nope", "Basic abc", "", "anonymous"]
    )
    methods = st.sampled_from([None] * 6 + ["GET", "POST", "PUT", "DELETE"])
    session = Client()
    session.force_login(user)
    seen: set[int] = set()

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        st.sampled_from(OPERATIONS),
        project_ids,
        export_ids,
        st.booleans(),
        bodies,
        content_types,
        auth,
        methods,
    )
    def check(  # type: ignore[no-untyped-def]
        operation, project_id, export_id, scene_of_theirs, body, content_type, authorization, method
    ):
        path, spec_method = operation
        method = method or spec_method
        # A scene of the project asked for (the way past its 404), or one of the other
        # user's under my project's id.
        scene_project = theirs.id if scene_of_theirs else min(project_id, 2**63 - 1)
        scene = (
            Sentence.objects.filter(project_id=scene_project).values_list("id", flat=True).first()
        )
        url = (
            path.replace("{project_id}", str(project_id))
            .replace("{export_id}", str(export_id))
            .replace("{sentence_id}", str(scene or project_id))
            .replace("{take_id}", str(project_id))
        )
        c = session if authorization == "session" else Client()
        headers = (
            {"HTTP_AUTHORIZATION": authorization} if authorization.startswith(("B", "b")) else {}
        )
        if method == "GET":
            r = c.get(url, **headers)
        else:
            r = c.generic(method, url, body.encode(), content_type=content_type, **headers)
        assert r.status_code < 500, (method, url, body[:100], r.content[:200])
        seen.add(r.status_code)
        if r.status_code >= 400:
            assert r["Content-Type"] == "application/json", (method, url, r.status_code)
            assert r.json()["error"]
        assert not GenerationRun.objects.filter(project=theirs).exists()

    check()
    # The fuzzing reached past authentication into validation and the engine.
    assert {400, 401, 404, 405} <= seen and seen & {202, 409} and 200 in seen, seen
    assert list(theirs.sentences.values()) == before
    assert Project.objects.get(id=theirs.id).owner == other_user
    assert list(Export.objects.filter(project=theirs).values_list("id", "status")) == [
        (their_export.id, ExportStatus.QUEUED)
    ]
