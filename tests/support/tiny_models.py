"""Tiny random-weight models, saved the way real ones are, so backends run their real loading code.

Outputs are noise; every line of loading, device placement, callbacks and file writing is real.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import torch

# CLIP's byte-level BPE needs an entry for every single-character token it may meet; a vocab of
# lowercase letters (plain and word-final) and a few specials keeps the tokenizer a few KB.
_LETTERS = string.ascii_lowercase + string.digits + ".,!?'-"


def clip_tokenizer() -> Any:
    from transformers import CLIPTokenizer

    tokens = ["<|startoftext|>", "<|endoftext|>"]
    for ch in _LETTERS:
        tokens += [ch, ch + "</w>"]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}
    # No merges: every word is spelled out letter by letter, which is all a test needs.
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def sd_turbo_scheduler() -> Any:
    """sd-turbo's scheduler, as its model folder configures it."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )


def svd_scheduler() -> Any:
    """Stable Video Diffusion's scheduler, as its model folder configures it."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )


def build_tiny_sd(folder: Path) -> Path:
    """A StableDiffusionPipeline of ~1 MB with sd-turbo's scheduler, saved to `folder`."""
    from diffusers import (
        AutoencoderKL,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=4,
    )
    # Four blocks give the real 8x VAE scale factor, so sizes behave as with full models.
    vae = AutoencoderKL(
        block_out_channels=[4, 4, 4, 4],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        norm_num_groups=2,
        layers_per_block=1,
    )
    tokenizer = clip_tokenizer()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=1,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    scheduler = sd_turbo_scheduler()
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)  # type: ignore[attr-defined]
    return folder


def build_tiny_svd(folder: Path) -> Path:
    """A StableVideoDiffusionPipeline of a few MB, saved to `folder`."""
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        # Its blocks normalise in 32 groups, so 32 channels is the smallest width.
        block_out_channels=(32, 32),
        layers_per_block=1,
        sample_size=8,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=16,
        num_attention_heads=(2, 2),
        projection_class_embeddings_input_dim=3 * 8,
        addition_time_embed_dim=8,
        num_frames=4,
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 32, 32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        latent_channels=4,
        layers_per_block=1,
    )
    scheduler = svd_scheduler()
    # The pipeline resizes the conditioning image to 224x224 itself.
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=16,
            projection_dim=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=224,
            intermediate_size=32,
            patch_size=32,
        )
    )
    feature_extractor = CLIPImageProcessor(crop_size=224, size=224)
    pipe = StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=image_encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=feature_extractor,
    )
    pipe.save_pretrained(folder)  # type: ignore[attr-defined]
    return folder


def build_tiny_vits(folder: Path, *, speakers: list[str] | None = None) -> Path:
    """A coqui VITS model folder (model.pth + config.json), single- or multi-speaker."""
    from TTS.tts.configs.shared_configs import BaseAudioConfig, CharactersConfig
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits, VitsArgs

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    args = VitsArgs(
        hidden_channels=16,
        hidden_channels_ffn_text_encoder=16,
        num_heads_text_encoder=2,
        num_layers_text_encoder=1,
        num_layers_posterior_encoder=1,
        num_layers_flow=1,
        use_sdp=False,
        init_discriminator=False,
        resblock_type_decoder="2",
        resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3]],
        upsample_rates_decoder=[8, 8, 4],
        upsample_initial_channel_decoder=16,
        upsample_kernel_sizes_decoder=[16, 16, 8],
        use_speaker_embedding=bool(speakers),
        speaker_embedding_channels=8,
    )
    config = VitsConfig(
        model_args=args,
        audio=BaseAudioConfig(sample_rate=16000, hop_length=256, win_length=1024, fft_size=1024),
        use_phonemes=False,
        text_cleaner="basic_cleaners",
        characters=CharactersConfig(
            characters_class="TTS.tts.utils.text.characters.Graphemes",
            pad="<PAD>",
            eos="<EOS>",
            bos="<BOS>",
            blank="<BLNK>",
            characters=string.ascii_lowercase,
            punctuations="!'(),-.:;? ",
        ),
        add_blank=True,
    )
    if speakers:
        # The speaker names travel in speakers.json next to the model, as in released models.
        (folder / "speakers.json").write_text(json.dumps({s: i for i, s in enumerate(speakers)}))
        config.model_args.use_speaker_embedding = config.use_speaker_embedding = True
        config.model_args.speakers_file = config.speakers_file = str(folder / "speakers.json")
    model = Vits(config)
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder
