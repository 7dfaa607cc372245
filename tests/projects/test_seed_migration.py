"""Scenes made before seeds were a field keep the seed their pictures were made with
(their id), so regenerating an existing scene gives back its picture."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("projects", "0001_initial")]
AFTER = [("projects", "0002_sentence_seed")]


@pytest.mark.django_db(transaction=True)
def test_it_gives_existing_scenes_their_id_as_seed_and_new_ones_a_random_seed(user):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    project = old.get_model("projects", "Project").objects.create(owner_id=user.id, name="Old")
    Sentence = old.get_model("projects", "Sentence")
    ids = [Sentence.objects.create(project=project, position=i, text="Hi.").id for i in (1, 2)]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from projects.models import Project

    fresh = Project.objects.get(id=project.id)
    assert [(s.id, s.seed) for s in fresh.sentences.all()] == [(i, i) for i in ids]
    (new,) = fresh.add_sentences(["A new scene."])
    new.refresh_from_db()
    assert 0 <= new.seed < 2**31 and new.seed not in ids
