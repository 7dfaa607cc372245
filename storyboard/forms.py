from django import forms
from django.core.exceptions import ValidationError

from generation.backends.registry import available_languages, voice_offered
from projects.models import MAX_SEED, Project, Sentence
from projects.script import ScriptError, split_script


def speech_errors(preset: str, voice: str, language: str) -> dict[str, str]:
    """What the preset's speech can't do of a project's voice and language, by field.

    Both reach the speech backend (a draft voice as an espeak-ng argument), so only what
    the preset's backends offer is accepted; the lists grow with what is installed."""
    errors = {}
    if voice and not voice_offered(preset, voice):
        errors["voice"] = (
            f"“{voice}” is not a voice of the {preset} preset here; "
            "leave it blank or pick one from the list."
        )
    if language.lower() not in available_languages(preset):
        errors["language"] = (
            f"“{language}” is not a language the {preset} preset can narrate "
            "(use a code such as en, de or fr)."
        )
    return errors


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    script = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        strip=True,
        error_messages={"required": "The script is empty. Paste at least one sentence."},
    )
    language = forms.CharField(max_length=16, initial="en")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if "language" in cleaned:
            preset = Project._meta.get_field("preset").get_default()
            for field, error in speech_errors(preset, "", cleaned["language"]).items():
                self.add_error(field, error)
        if "script" in cleaned:
            try:
                cleaned["sentences"] = split_script(
                    cleaned["script"], cleaned.get("language", "en")
                )
            except ScriptError as e:
                self.add_error("script", str(e))
        return cleaned


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = [
            "name",
            "voice",
            "language",
            "style_prompt",
            "width",
            "height",
            "fps",
            "preset",
            "webhook_url",
        ]
        # The page lists the voices installed for the project's preset in this datalist.
        widgets = {"voice": forms.TextInput(attrs={"list": "voice-options"})}
        help_texts = {"voice": "Blank for the preset's default; the list shows what is installed."}

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if {"voice", "language", "preset"} <= cleaned.keys():
            errors = speech_errors(cleaned["preset"], cleaned["voice"], cleaned["language"])
            for field, error in errors.items():
                self.add_error(field, error)
        return cleaned


class SentenceForm(forms.ModelForm):
    # Left out (an older form, a script), the seed stays as it is.
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_SEED,
        help_text="The picture's seed: the same seed and prompt give the same picture.",
    )

    class Meta:
        model = Sentence
        fields = ["text", "image_prompt", "seed", "camera_movement", "motion_strength"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "image_prompt": forms.Textarea(attrs={"rows": 3}),
            "motion_strength": forms.NumberInput(attrs={"step": "0.05", "min": 0, "max": 1}),
        }

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise ValidationError("A scene needs some text to narrate.")
        return text

    def clean_seed(self) -> int:
        seed = self.cleaned_data.get("seed")
        return self.instance.seed if seed is None else seed


class SentenceAddForm(forms.Form):
    text = forms.CharField(max_length=Sentence.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise ValidationError("A scene needs some text to narrate.")
        return text


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
