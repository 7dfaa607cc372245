"""Creating a project from a pasted script: one scene per sentence, bad scripts refused whole."""

import html

from django.contrib.auth.models import User

from projects.models import Project, Sentence


def create(client, script: str, name: str = "My film", language: str = "en"):
    return client.post("/", {"name": name, "language": language, "script": script})


def created_texts(user: User) -> list[str]:
    project = Project.objects.get(owner=user)
    return [s.text for s in project.sentences.all()]


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_it_keeps_an_abbreviation_inside_its_sentence(client, user: User):
    response = create(client, "Dr. Smith arrived. He sat down.")
    project = Project.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.id}/"
    assert created_texts(user) == ["Dr. Smith arrived.", "He sat down."]
    page = client.get(response["Location"]).content.decode()
    assert "Dr. Smith arrived." in page and "He sat down." in page


def test_it_splits_on_question_and_exclamation_marks(client, user: User):
    create(client, "Who is there? Nobody answered! The door creaked.")
    assert created_texts(user) == ["Who is there?", "Nobody answered!", "The door creaked."]


def test_it_ends_a_scene_at_a_blank_line(client, user: User):
    create(client, "Chapter One\n\nThe night was cold\n  \nMorning came.")
    assert created_texts(user) == ["Chapter One", "The night was cold", "Morning came."]


def test_it_collapses_whitespace_inside_a_sentence(client, user: User):
    create(client, "  The   wind\thowled\nall   night.   ")
    assert created_texts(user) == ["The wind howled all night."]


def test_it_gives_each_scene_a_default_image_prompt_from_its_text(client, user: User):
    create(client, "A red kite flew. The boy laughed.")
    scenes = list(Project.objects.get(owner=user).sentences.all())
    assert [(s.position, s.image_prompt) for s in scenes] == [
        (1, "A red kite flew."),
        (2, "The boy laughed."),
    ]
    assert all(s.is_audio_dirty and s.is_image_dirty and s.is_video_dirty for s in scenes)


def test_it_refuses_an_empty_script_and_saves_nothing(client):
    for script in ("", "   \n\n\t  "):
        response = create(client, script)
        assert response.status_code == 400
        assert "The script is empty. Paste at least one sentence." in page_text(response)
    assert Project.objects.count() == 0
    assert Sentence.objects.count() == 0


def test_it_refuses_a_20000_word_script_naming_the_limit(client, settings):
    script = "The sea was calm today. " * 4000  # 20,000 words
    response = create(client, script)
    assert response.status_code == 400
    page = page_text(response)
    assert "The script has 20,000 words" in page
    assert f"the limit is {settings.MAX_SCRIPT_WORDS:,}" in page
    assert Project.objects.count() == 0
    assert Sentence.objects.count() == 0


def test_it_refuses_more_sentences_than_a_project_holds(client, settings):
    settings.MAX_SCENES = 5
    response = create(client, "One. Two. Three. Four. Five. Six.")
    assert response.status_code == 400
    assert "The script has 6 sentences; a project holds at most 5 scenes" in page_text(response)
    assert Project.objects.count() == 0


def test_it_accepts_exactly_as_many_sentences_as_a_project_holds(client, settings, user: User):
    settings.MAX_SCENES = 5
    response = create(client, "One. Two. Three. Four. Five.")
    assert response.status_code == 302
    assert len(created_texts(user)) == 5


def test_it_refuses_a_single_overlong_sentence(client):
    sentence = "and then " * 300 + "it stopped."
    response = create(client, f"It began. {sentence}")
    assert response.status_code == 400
    page = page_text(response)
    assert "One sentence is" in page and "the limit is 2,000" in page
    assert Project.objects.count() == 0


def test_it_keeps_unicode_and_emoji_exactly(client, user: User):
    script = "Der Leuchtturm strahlt 🌊✨. ¿Dónde está la luz? 灯台守は眠った。"
    response = create(client, script, name="Ünïcode 🎬")
    assert response.status_code == 302
    texts = created_texts(user)
    assert texts[0] == "Der Leuchtturm strahlt 🌊✨."
    assert "".join(texts).replace(" ", "") == script.replace(" ", "")
    project = Project.objects.get(owner=user)
    assert project.name == "Ünïcode 🎬"
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Der Leuchtturm strahlt 🌊✨." in page and "Ünïcode 🎬" in page


def test_it_keeps_what_the_user_typed_when_the_script_is_refused(client, settings):
    settings.MAX_SCENES = 1
    response = create(client, "First line. Second line.", name="Keep me")
    assert response.status_code == 400
    page = page_text(response)
    assert 'value="Keep me"' in page
    assert "First line. Second line." in page
