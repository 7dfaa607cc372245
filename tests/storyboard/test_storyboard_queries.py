"""The storyboard page costs the same number of SQL queries at 10 scenes and at 1,000."""

import time

import pytest

# The session, the user, the project (ownership check), its scenes, the pending counts,
# the generation toolbar's look-up of the project's latest run, the live workers, the
# median job time of each of the three stages (the Generate options' quotes), and the
# export panel's recent exports.
STORYBOARD_QUERIES = 11


@pytest.mark.parametrize("scenes", [10, 1000])
def test_it_renders_the_storyboard_in_a_fixed_number_of_queries(
    client, make_project, django_assert_num_queries, scenes: int
):
    project = make_project(scenes)
    started = time.perf_counter()
    with django_assert_num_queries(STORYBOARD_QUERIES):
        response = client.get(f"/projects/{project.id}/")
    elapsed = time.perf_counter() - started
    print(f"storyboard with {scenes} scenes rendered in {elapsed:.2f}s")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<tr id="scene-') == scenes
    assert f"Scene number {scenes} happens here." in page
    assert f"{scenes} audio pending" in page


def test_it_renders_a_scene_being_edited_in_a_fixed_number_of_queries(
    client, make_project, django_assert_num_queries
):
    project = make_project(1000)
    scene = project.sentences.get(position=500)
    # One more query than the plain page: the scene being edited.
    with django_assert_num_queries(STORYBOARD_QUERIES + 1):
        response = client.get(f"/projects/{project.id}/?edit={scene.id}")
    page = response.content.decode()
    assert page.count('<tr id="scene-') == 1000
    assert page.count('class="scene editing"') == 1
