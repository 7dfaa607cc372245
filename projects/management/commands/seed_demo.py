"""`manage.py seed_demo`: a demo user and a storyboard to look at straight away."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from projects.models import CameraMovement, Project, Sentence
from projects.script import split_script
from projects.vocabulary import Preset

DEMO_NAME = "The Lighthouse Keeper"
DEMO_STYLE = "warm storybook illustration, soft watercolour, golden evening light"
DEMO_SCRIPT = """\
On a rocky island at the edge of the sea stood an old white lighthouse.
Mr. Alder had kept its lamp burning for forty years.
Every evening he climbed the hundred and twelve steps with a lantern in his hand.
He polished the great lens until it shone like a second moon.
One stormy night, a small fishing boat lost its way in the fog.
The keeper saw its faint light tossing between the waves.
He turned the beam toward the safe channel and rang the brass bell.
Slowly, the little boat followed the light home to the harbour.
In the morning, the fishermen brought him fresh bread and a basket of apples.
Mr. Alder smiled, wound the clock, and waited for the sun to set again.
"""
# One camera move per scene, in order, so the animatic has some variety.
DEMO_CAMERA = [
    CameraMovement.ZOOM_IN,
    CameraMovement.STATIC,
    CameraMovement.PAN_UP,
    CameraMovement.ZOOM_IN,
    CameraMovement.PAN_LEFT,
    CameraMovement.ZOOM_OUT,
    CameraMovement.PAN_RIGHT,
    CameraMovement.PAN_DOWN,
    CameraMovement.STATIC,
    CameraMovement.ZOOM_OUT,
]


class Command(BaseCommand):
    help = "Create a demo user and the demo project (does nothing that already exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="storyboard")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        password: str = options["password"]
        User = get_user_model()
        with transaction.atomic():
            user, user_created = User.objects.get_or_create(username=username)
            if user_created:
                user.set_password(password)
                user.save()
            project = Project.objects.filter(owner=user, name=DEMO_NAME).first()
            project_created = project is None
            if project is None:
                project = Project.objects.create(
                    owner=user,
                    name=DEMO_NAME,
                    style_prompt=DEMO_STYLE,
                    preset=Preset.DRAFT,
                )
                scenes = project.add_sentences(split_script(DEMO_SCRIPT))
                for i, scene in enumerate(scenes):
                    scene.camera_movement = DEMO_CAMERA[i % len(DEMO_CAMERA)]
                    scene.motion_strength = round(0.3 + 0.1 * (i % 5), 2)
                Sentence.objects.bulk_update(scenes, ["camera_movement", "motion_strength"])
        what = "Created" if project_created else "Kept"
        login = (
            f"log in as {username!r} with password {password!r}"
            if user_created
            else f"log in as {username!r} (existing user, password unchanged)"
        )
        self.stdout.write(
            f"{what} demo project {DEMO_NAME!r} ({project.sentences.count()} scenes): "
            f"{login}, then open /projects/{project.id}/"
        )
