"""The project settings offer the narration voices installed for the project's preset."""

import html
import re

from projects.models import Project


def offered(page: str) -> list[str]:
    datalist = re.search(r'<datalist id="voice-options">(.*?)</datalist>', page, re.S)
    assert datalist, "no voice list on the page"
    return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', datalist.group(1))]


def test_it_lists_the_installed_voices_for_the_projects_preset(client, project, settings):
    from generation.backends import neural_voice

    page = client.get(f"/projects/{project.id}/").content.decode()
    assert 'list="voice-options"' in page
    voices = offered(page)
    assert voices[0] == ""
    assert ("joe" in voices) == (neural_voice.usable("joe") is not None)

    Project.objects.filter(id=project.id).update(preset="studio")
    settings.STORYBOARD_TTS_MODEL = "tts_models/en/ljspeech/vits"
    assert offered(client.get(f"/projects/{project.id}/").content.decode()) == [""]
