"""Random bodies, ids and headers against every operation of the OpenAPI description:
never a 500, never a change to another user's data."""

import json
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ApiToken
from generation.models import GenerationRun
from projects.models import Project, Sentence

SPEC = json.loads((Path(__file__).parent.parent / "generation" / "openapi.json").read_text())
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
        },
    ).map(json.dumps),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
)


@pytest.mark.django_db
def test_it_never_fails_or_touches_another_users_project(user, make_project, other_user):
    mine = make_project(3)
    theirs = make_project(["Their first scene.", "Their second."], owner=other_user)
    token = ApiToken(user=user, name="fuzz")
    key = token.new_key()
    token.save()
    before = list(theirs.sentences.values())
    ids = st.sampled_from([mine.id, theirs.id, 0, 999_999]) | st.integers(1, 2**31)
    auth = st.sampled_from([f"Bearer {key}", "Bearer nope", "Basic abc", "", f"bearer  {key}"])
    seen: set[int] = set()

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.sampled_from(OPERATIONS), ids, bodies, content_types, auth)
    def check(operation, project_id, body, content_type, authorization):  # type: ignore[no-untyped-def]
        path, method = operation
        scene = Sentence.objects.filter(project_id=project_id).values_list("id", flat=True).first()
        url = (
            path.replace("{project_id}", str(project_id))
            .replace("{sentence_id}", str(scene or project_id))
            .replace("{take_id}", str(project_id))
        )
        c = Client()
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        if method == "GET":
            r = c.get(url, **headers)
        else:
            r = c.post(url, body, content_type=content_type, **headers)
        assert r.status_code < 500, (url, body, r.content[:200])
        seen.add(r.status_code)
        if r.status_code >= 400 and r["Content-Type"] == "application/json":
            assert r.json()["error"]
        assert not GenerationRun.objects.filter(project=theirs).exists()

    check()
    # The fuzzing reached past authentication into validation and the engine.
    assert {400, 401, 404} <= seen and seen & {202, 409}, seen
    assert list(theirs.sentences.values()) == before
    assert Project.objects.get(id=theirs.id).owner == other_user
