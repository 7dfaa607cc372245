"""Just enough ISO BMFF (MP4) to join scene clips by stream copy, without ffmpeg.

ffmpeg needs ~15 ms to open an MP4, however little it then reads; for a 50-scene film that
dominated the whole export. Our clips all come from `media.ffmpeg.clip_output_args` (H.264 +
AAC, moov first), so reading their sample tables here and writing one file that points at the
same packets costs a few milliseconds plus copying the bytes.

The reader takes a clip's top-level boxes and, per track, the facts a join needs: handler,
timescale, codec parameters (avcC, AudioSpecificConfig), edit list, and every sample's file
offset, size, decode duration, composition offset and sync flag. Fragmented files and
anything malformed raise `Mp4Error`, so the caller can fall back to a re-encode.

The writer lays out ftyp, moov (first, for fast start) and one mdat holding the chosen samples
of every clip in turn. Video B-frame delay is carried over by the edit list (see
`write_joined`); which audio samples to keep is the caller's choice.
"""

from __future__ import annotations

import errno
import itertools
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Bytes of a sample entry before its child boxes (ISO 14496-12 VisualSampleEntry,
# AudioSampleEntry, and the QuickTime sound description versions 1 and 2).
_VISUAL_ENTRY = 78
_AUDIO_ENTRY = {0: 28, 1: 44, 2: 64}
_H264_PROFILES = {66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High 10"}
# profile_idc values whose avcC ends with chroma format and bit depths.
_H264_HIGH_PROFILES = (100, 110, 122, 144)
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
_COPY_BLOCK = 16 << 20
_UINT32 = 0xFFFFFFFF


class Mp4Error(Exception):
    """Not an MP4 that can be joined by copying its samples: fragmented, truncated, malformed."""


@dataclass(frozen=True)
class VideoFormat:
    codec: str  # sample entry type, "avc1" for H.264
    width: int
    height: int
    profile: int  # H.264 profile_idc (100 = High); 0 for other codecs
    pixel_format: str  # "yuv420p" when the avcC says 4:2:0 at 8 bits
    config: bytes  # the avcC record: only clips whose parameter sets match can share a track


@dataclass(frozen=True)
class AudioFormat:
    codec: str  # sample entry type, "mp4a" for AAC
    object_type: int  # esds objectTypeIndication: 0x40 is MPEG-4 audio (AAC)
    sample_rate: int
    channels: int
    config: bytes  # AudioSpecificConfig


@dataclass(frozen=True)
class Edit:
    segment_duration: int  # in the movie's timescale
    media_time: int  # in the track's timescale; -1 for an empty edit


@dataclass(frozen=True)
class Track:
    kind: str  # handler type: "vide", "soun", ...
    timescale: int
    # The sample entry as the joined file can reuse it: the clip's own, less its btrt box
    # (that clip's bitrates, wrong for the film).
    entry: bytes
    format: VideoFormat | AudioFormat | None
    edits: list[Edit]
    offsets: list[int]
    sizes: list[int]
    durations: list[int]
    composition: list[int]  # ctts offsets; all 0 without a ctts box
    sync: list[bool]  # all True without an stss box

    @property
    def media_start(self) -> int | None:
        """Where presentation starts in the media (an encoder's B-frame delay or AAC
        priming), or None when the edit list does more than skip a start."""
        if not self.edits:
            return 0
        if len(self.edits) > 1 or self.edits[0].media_time < 0:
            return None
        return self.edits[0].media_time


@dataclass(frozen=True)
class Movie:
    path: Path
    timescale: int
    duration: int  # in `timescale`, from mvhd
    tracks: list[Track]

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale

    @property
    def video(self) -> Track | None:
        return next((t for t in self.tracks if t.kind == "vide"), None)

    @property
    def audio(self) -> Track | None:
        return next((t for t in self.tracks if t.kind == "soun"), None)


# Reading -------------------------------------------------------------------


def read_movie(path: Path) -> Movie:
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            moov = _read_moov(file, size)
    except OSError as e:
        raise Mp4Error(f"cannot read the file ({e.strerror})") from e
    try:
        movie = _parse_moov(path, moov)
    except (struct.error, IndexError) as e:
        # A box or descriptor shorter than its own fields.
        raise Mp4Error("malformed moov box") from e
    for track in movie.tracks:
        if any(o + s > size for o, s in zip(track.offsets, track.sizes, strict=True)):
            raise Mp4Error("truncated: samples lie past the end of the file")
    return movie


def _read_moov(file: BinaryIO, size: int) -> bytes:
    """The moov box's body, wherever it lies among the top-level boxes."""
    if size == 0:
        raise Mp4Error("not an MP4 file (it is empty)")
    moov = None
    position = 0
    while position < size:
        file.seek(position)
        head = file.read(16)
        if len(head) < 8:
            raise Mp4Error("truncated box header")
        box_size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if box_size == 1 and len(head) == 16:
            box_size, header = struct.unpack_from(">Q", head, 8)[0], 16
        elif box_size == 0:  # the last box, to the end of the file
            box_size = size - position
        if not all(32 <= c < 127 for c in kind) or box_size < header:
            raise Mp4Error("not an MP4 file")
        if kind == b"moof":
            raise Mp4Error("fragmented MP4 is not supported")
        if position + box_size > size:
            raise Mp4Error(f"truncated: the {_name(kind)} box runs past the end of the file")
        if kind == b"moov":
            file.seek(position + header)
            moov = file.read(box_size - header)
        position += box_size
    if moov is None:
        raise Mp4Error("no moov box")
    return moov


def _parse_moov(path: Path, moov: bytes) -> Movie:
    timescale = duration = 0
    tracks = []
    for kind, _, start, end in boxes(moov, 0, len(moov)):
        if kind == b"mvhd":
            timescale, duration = _timescale_and_duration(moov, start)
        elif kind == b"trak":
            tracks.append(_read_track(moov, start, end))
        elif kind == b"mvex":
            raise Mp4Error("fragmented MP4 is not supported")
    if not timescale:
        raise Mp4Error("no mvhd box")
    return Movie(path, timescale, duration, tracks)


def boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box start, body start, box end) of each box in data[start:end]."""
    position = start
    # Fewer than 8 bytes left is padding some writers put after the last child.
    while end - position >= 8:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise Mp4Error(f"the {_name(kind)} box runs past its parent")
        yield kind, position, position + header, position + size
        position += size


def _child(data: bytes, start: int, end: int, *path: bytes) -> tuple[int, int]:
    """Body start and end of the box at `path` below data[start:end]."""
    for kind in path:
        found = next(((s, e) for k, _, s, e in boxes(data, start, end) if k == kind), None)
        if found is None:
            raise Mp4Error(f"no {_name(kind)} box")
        start, end = found
    return start, end


def _has_child(data: bytes, start: int, end: int, kind: bytes) -> bool:
    return any(k == kind for k, _, _, _ in boxes(data, start, end))


def _name(kind: bytes) -> str:
    # A damaged file's box types can be any bytes; messages show them printable.
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in kind)


def _timescale_and_duration(data: bytes, body: int) -> tuple[int, int]:
    # mvhd and mdhd share this layout: version 1 has 64-bit times and duration.
    if data[body] == 1:
        timescale, duration = struct.unpack_from(">IQ", data, body + 20)
    else:
        timescale, duration = struct.unpack_from(">II", data, body + 12)
    return timescale, duration


def _read_track(data: bytes, start: int, end: int) -> Track:
    mdia = _child(data, start, end, b"mdia")
    timescale, _ = _timescale_and_duration(data, _child(data, *mdia, b"mdhd")[0])
    if not timescale:
        raise Mp4Error("a track has no timescale")
    hdlr = _child(data, *mdia, b"hdlr")[0]
    kind = _name(data[hdlr + 8 : hdlr + 12])
    stbl = _child(data, *mdia, b"minf", b"stbl")
    entry, format = _read_sample_entry(data, *_child(data, *stbl, b"stsd"), kind)

    def table(name: bytes) -> int:
        return _child(data, *stbl, name)[0]

    sizes = _read_sizes(data, table(b"stsz"))
    durations = _expand(data, table(b"stts"), "I", len(sizes))
    composition = [0] * len(sizes)
    if _has_child(data, *stbl, b"ctts"):
        # Signed whatever the version: ffmpeg writes negative offsets in version 0.
        composition = _expand(data, table(b"ctts"), "i", len(sizes))
    sync = [True] * len(sizes)
    if _has_child(data, *stbl, b"stss"):
        sync = [False] * len(sizes)
        for number in _entries(data, table(b"stss"), "I"):
            if not 1 <= number <= len(sizes):
                raise Mp4Error("stss names a sample that does not exist")
            sync[number - 1] = True
    if _has_child(data, *stbl, b"co64"):
        chunks = _entries(data, table(b"co64"), "Q")
    else:
        chunks = _entries(data, table(b"stco"), "I")
    offsets = _sample_offsets(_entries(data, table(b"stsc"), "III"), chunks, sizes)
    return Track(
        kind, timescale, entry, format, _read_edits(data, start, end),
        offsets, sizes, durations, composition, sync,
    )  # fmt: skip


def _read_edits(data: bytes, start: int, end: int) -> list[Edit]:
    if not _has_child(data, start, end, b"edts"):
        return []
    body, _ = _child(data, start, end, b"edts", b"elst")
    rows = _entries(data, body, "QqI" if data[body] == 1 else "IiI")
    return [Edit(segment, media_time) for segment, media_time, _ in _rows(rows, 3)]


def _entries(data: bytes, body: int, row: str) -> tuple[int, ...]:
    """The table of a full box that is an entry count and then `count` rows of `row`."""
    (count,) = struct.unpack_from(">I", data, body + 4)
    if body + 8 + count * struct.calcsize(f">{row}") > len(data):
        raise Mp4Error("a sample table is shorter than its count")
    layout = f">{count * len(row)}{row[0]}" if len(set(row)) == 1 else f">{row * count}"
    return struct.unpack_from(layout, data, body + 8)


def _rows(values: tuple[int, ...], width: int) -> Iterator[tuple[int, ...]]:
    return zip(*[iter(values)] * width, strict=True)


def _expand(data: bytes, body: int, value: str, samples: int) -> list[int]:
    """A run-length table (stts, ctts) as one value per sample."""
    runs = list(_rows(_entries(data, body, "I" + value), 2))
    if sum(count for count, _ in runs) != samples:
        raise Mp4Error("the sample tables disagree on the number of samples")
    return [v for count, v in runs for _ in range(count)]


def _read_sizes(data: bytes, body: int) -> list[int]:
    uniform, count = struct.unpack_from(">II", data, body + 4)
    if uniform:
        return [uniform] * count
    if body + 12 + 4 * count > len(data):
        raise Mp4Error("a sample table is shorter than its count")
    return list(struct.unpack_from(f">{count}I", data, body + 12))


def _sample_offsets(stsc: tuple[int, ...], chunks: tuple[int, ...], sizes: list[int]) -> list[int]:
    runs = list(_rows(stsc, 3))
    offsets: list[int] = []
    for i, (first, per_chunk, description) in enumerate(runs):
        if description != 1:
            raise Mp4Error("more than one sample description is not supported")
        if first < 1:
            raise Mp4Error("stsc names chunk 0")
        last = runs[i + 1][0] - 1 if i + 1 < len(runs) else len(chunks)
        for chunk in range(first - 1, last):
            position = chunks[chunk]
            for _ in range(per_chunk):
                if len(offsets) == len(sizes):
                    raise Mp4Error("stsc names more samples than stsz")
                offsets.append(position)
                position += sizes[len(offsets) - 1]
    if len(offsets) != len(sizes):
        raise Mp4Error("stsc names fewer samples than stsz")
    return offsets


def _read_sample_entry(
    data: bytes, body: int, end: int, handler: str
) -> tuple[bytes, VideoFormat | AudioFormat | None]:
    entries = list(boxes(data, body + 8, end))
    if not entries:
        raise Mp4Error("no sample description")
    kind, _, entry_body, entry_end = entries[0]
    codec = _name(kind)
    format: VideoFormat | AudioFormat
    if handler == "vide":
        children = entry_body + _VISUAL_ENTRY
        width, height = struct.unpack_from(">HH", data, entry_body + 24)
        format = VideoFormat(codec, width, height, 0, "", b"")
        if _has_child(data, children, entry_end, b"avcC"):
            avcc = data[slice(*_child(data, children, entry_end, b"avcC"))]
            format = _avc_format(codec, width, height, avcc)
    elif handler == "soun":
        version, channels, rate = struct.unpack_from(">H6xH6xI", data, entry_body + 8)
        if version not in _AUDIO_ENTRY:
            raise Mp4Error(f"unknown audio sample entry version {version}")
        children = entry_body + _AUDIO_ENTRY[version]
        format = AudioFormat(codec, 0, rate >> 16, channels, b"")
        if _has_child(data, children, entry_end, b"esds"):
            format = _aac_format(codec, data, _child(data, children, entry_end, b"esds")[0])
    else:
        return data[entries[0][1] : entry_end], None
    kept = [data[s:e] for k, s, _, e in boxes(data, children, entry_end) if k != b"btrt"]
    return _box(kind, data[entry_body:children], *kept), format


def _avc_format(codec: str, width: int, height: int, avcc: bytes) -> VideoFormat:
    if avcc[0] != 1:
        raise Mp4Error("malformed avcC")
    profile = avcc[1]
    pixel_format = "yuv420p"
    if profile in _H264_HIGH_PROFILES:
        # After the parameter sets, High profiles state chroma format and bit depths.
        position = 5
        for count_mask in (0x1F, 0xFF):  # sequence, then picture parameter sets
            count = avcc[position] & count_mask
            position += 1
            for _ in range(count):
                position += 2 + int.from_bytes(avcc[position : position + 2], "big")
        pixel_format = ""  # when not stated: never taken for a match
        if position + 3 <= len(avcc):
            chroma = avcc[position] & 0x03
            luma_bits = (avcc[position + 1] & 0x07) + 8
            chroma_bits = (avcc[position + 2] & 0x07) + 8
            name = ("gray", "yuv420p", "yuv422p", "yuv444p")[chroma]
            pixel_format = name if luma_bits == chroma_bits == 8 else f"{name}{luma_bits}"
    return VideoFormat(codec, width, height, profile, pixel_format, bytes(avcc))


def _descriptor(data: bytes, position: int) -> tuple[int, int, int]:
    """(tag, body start, body end) of the MPEG-4 descriptor at `position`."""
    tag = data[position]
    length = 0
    position += 1
    for _ in range(4):
        byte = data[position]
        position += 1
        length = length << 7 | byte & 0x7F
        if not byte & 0x80:
            break
    return tag, position, position + length


def _aac_format(codec: str, data: bytes, body: int) -> AudioFormat:
    tag, position, _ = _descriptor(data, body + 4)
    if tag != 0x03:  # ES_Descriptor
        raise Mp4Error("malformed esds")
    flags = data[position + 2]
    position += 3
    if flags & 0x80:  # streamDependenceFlag
        position += 2
    if flags & 0x40:  # URL_Flag
        position += 1 + data[position]
    if flags & 0x20:  # OCRstreamFlag
        position += 2
    tag, position, _ = _descriptor(data, position)
    if tag != 0x04:  # DecoderConfigDescriptor
        raise Mp4Error("malformed esds")
    object_type = data[position]
    tag, start, stop = _descriptor(data, position + 13)
    if tag != 0x05:  # DecoderSpecificInfo
        raise Mp4Error("malformed esds")
    config = data[start:stop]
    sample_rate, channels = _audio_specific_config(config)
    return AudioFormat(codec, object_type, sample_rate, channels, bytes(config))


def _audio_specific_config(config: bytes) -> tuple[int, int]:
    """Sample rate and channel count, as ISO 14496-3 1.6.2.1 packs them in bits."""
    bits = int.from_bytes(config, "big")
    left = 8 * len(config)

    def take(n: int) -> int:
        nonlocal left
        left -= n
        if left < 0:
            raise Mp4Error("malformed AudioSpecificConfig")
        return bits >> left & (1 << n) - 1

    if take(5) == 31:  # audioObjectType escape
        take(6)
    index = take(4)
    rate = take(24) if index == 15 else _AAC_RATES[index] if index < len(_AAC_RATES) else 0
    channel_config = take(4)
    return rate, 8 if channel_config == 7 else channel_config


def describe(track: Track) -> str:
    """The track's format the way ffmpeg names it, for messages."""
    fmt = track.format
    if isinstance(fmt, VideoFormat):
        codec = "h264" if fmt.codec in ("avc1", "avc3") else fmt.codec
        profile = _H264_PROFILES.get(fmt.profile, f"profile {fmt.profile}") if fmt.profile else ""
        words = [codec, profile, fmt.pixel_format, f"{fmt.width}x{fmt.height}"]
        durations = set(track.durations)
        if len(durations) == 1:
            words.append(f"{track.timescale / durations.pop():g} fps")
        return " ".join(w for w in words if w)
    if isinstance(fmt, AudioFormat):
        codec = "aac" if fmt.codec == "mp4a" and fmt.object_type == 0x40 else fmt.codec
        return f"{codec} {fmt.sample_rate} Hz {fmt.channels} ch"
    return track.kind


# Writing -------------------------------------------------------------------


@dataclass
class _Samples:
    """One track of the joined file, in decode order, placed in its mdat."""

    offsets: list[int]  # from the start of the mdat's payload
    sizes: list[int]
    durations: list[int]
    composition: list[int]
    sync: list[bool]


def write_joined(
    output: Path,
    clips: list[Movie],
    audio_samples: list[range],
    audio_start: int,
    check: Callable[[], None],
) -> None:
    """One MP4 playing every clip's video in turn, with the chosen audio samples of each.

    Each clip's pictures start exactly where the previous clip's frames end (a clip lasts
    the sum of its frame durations). A clip's edit list skips its B-frame delay M; the film
    gets one edit skipping G, the largest M, and each clip's composition offsets move by
    G - M, so its first picture lands at its start. The first `audio_start` samples of the
    joined audio are the decoder's pre-roll (the first clip's AAC priming): the audio edit
    skips them too, and ends the audio with the pictures. Every clip must have the video and
    audio formats and timescales of the first; the caller checks. `check` runs between
    clips and may raise to stop.
    """
    video0, audio0 = _track(clips[0], "vide"), _track(clips[0], "soun")
    delay = max(_track(c, "vide").media_start or 0 for c in clips)
    video = _Samples([], [], [], [], [])
    audio = _Samples([], [], [], [], [])
    copies: list[list[tuple[int, int]]] = []  # per clip: (source offset, length)
    payload = 0
    for clip, keep in zip(clips, audio_samples, strict=True):
        clip_video, clip_audio = _track(clip, "vide"), _track(clip, "soun")
        # Copied in the clip's own file order (ffmpeg interleaves the tracks about every
        # frame), so samples that touch merge into a few large copies; the tables below
        # still list each track in decode order.
        spans = sorted(
            {(clip_video.offsets[i], clip_video.sizes[i]) for i in range(len(clip_video.sizes))}
            | {(clip_audio.offsets[i], clip_audio.sizes[i]) for i in keep}
        )
        runs, landing, payload = _lay_out(spans, payload)
        copies.append(runs)

        shift = delay - (clip_video.media_start or 0)
        video.offsets.extend(landing[offset] for offset in clip_video.offsets)
        video.sizes.extend(clip_video.sizes)
        video.durations.extend(clip_video.durations)
        video.composition.extend(offset + shift for offset in clip_video.composition)
        video.sync.extend(clip_video.sync)
        # A clip's last AAC frame is stored shortened to where its audio ends; here more
        # audio follows, so every frame plays whole: as long as the clip's longest.
        audio.offsets.extend(landing[clip_audio.offsets[i]] for i in keep)
        audio.sizes.extend(clip_audio.sizes[i] for i in keep)
        audio.durations.extend([max(clip_audio.durations)] * len(keep))
        audio.composition.extend(clip_audio.composition[i] for i in keep)
        audio.sync.extend(clip_audio.sync[i] for i in keep)

    timescale = video0.timescale
    video_length = sum(video.durations)
    audio_length = (sum(audio.durations) - audio_start) * timescale // audio0.timescale

    video_tables, video_chunks = _sample_tables(video)
    audio_tables, audio_chunks = _sample_tables(audio)

    def moov(base: int, large: bool) -> bytes:
        video_offsets = _chunk_offsets(video_chunks, base, large)
        audio_offsets = _chunk_offsets(audio_chunks, base, large)
        audio_shown = min(audio_length, video_length)
        return _box(
            b"moov",
            _mvhd(timescale, video_length),
            _trak(1, video0, video, [*video_tables, video_offsets], video_length, delay),
            _trak(2, audio0, audio, [*audio_tables, audio_offsets], audio_shown, audio_start),
        )

    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    mdat_header = struct.pack(">I4s", 8 + payload, b"mdat")
    if 8 + payload > _UINT32:
        mdat_header = struct.pack(">I4sQ", 1, b"mdat", 16 + payload)
    # The moov's size depends only on whether offsets need 64 bits, not on their values.
    head = len(ftyp) + len(moov(0, False)) + len(mdat_header)
    large = head + payload > _UINT32
    if large:
        head = len(ftyp) + len(moov(0, True)) + len(mdat_header)
    header = ftyp + moov(head, large) + mdat_header

    with open(output, "wb", buffering=0) as out:
        _write_all(out.fileno(), header, 0)
        position = head
        for clip, runs in zip(clips, copies, strict=True):
            check()
            with open(clip.path, "rb", buffering=0) as source:
                for offset, length in runs:
                    _copy(source.fileno(), out.fileno(), offset, position, length)
                    position += length


def _lay_out(
    spans: list[tuple[int, int]], payload: int
) -> tuple[list[tuple[int, int]], dict[int, int], int]:
    """For samples at (offset, length) in a clip, sorted: the byte ranges to copy, samples
    that touch merged; where each sample lands in the payload, by its offset in the clip;
    and the payload's new end, the ranges appended from `payload` on."""
    runs: list[tuple[int, int]] = []
    landing: dict[int, int] = {}
    run_lands = payload
    for offset, size in spans:
        if runs and offset <= runs[-1][0] + runs[-1][1]:
            start, length = runs[-1]
            runs[-1] = (start, max(length, offset + size - start))
        else:
            if runs:
                run_lands += runs[-1][1]
            runs.append((offset, size))
        landing[offset] = run_lands + offset - runs[-1][0]
    return runs, landing, run_lands + (runs[-1][1] if runs else 0)


def _track(movie: Movie, kind: str) -> Track:
    track = movie.video if kind == "vide" else movie.audio
    if track is None:
        raise Mp4Error(f"{movie.path.name} has no {kind} track")
    return track


def _write_all(fd: int, data: bytes, position: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, position)
        view, position = view[written:], position + written


def _copy(source: int, target: int, offset: int, position: int, length: int) -> None:
    """Copy in the kernel where it can (no trip through Python), else in large blocks."""
    while length:
        try:
            done = os.copy_file_range(source, target, min(length, 1 << 30), offset, position)
        except OSError as e:
            # Across file systems, or where the file system does not offer it.
            if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            break
        if done == 0:
            raise Mp4Error("a clip ended before its samples did")
        offset, position, length = offset + done, position + done, length - done
    while length:
        block = os.pread(source, min(length, _COPY_BLOCK), offset)
        if not block:
            raise Mp4Error("a clip ended before its samples did")
        _write_all(target, block, position)
        offset, position, length = offset + len(block), position + len(block), length - len(block)


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version << 24 | flags), *parts)


def _dated(duration: int, *fields: int) -> tuple[int, bytes]:
    """Version and body start of mvhd, tkhd or mdhd: creation and modification times (left
    at 0), `fields`, then the duration; version 1 (64-bit) only when the duration needs it."""
    middle = "I" * len(fields)
    if duration > _UINT32:
        return 1, struct.pack(f">QQ{middle}Q", 0, 0, *fields, duration)
    return 0, struct.pack(f">II{middle}I", 0, 0, *fields, duration)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _mvhd(timescale: int, duration: int) -> bytes:
    version, dated = _dated(duration, timescale)
    rate_volume = struct.pack(">IH10x", 0x10000, 0x100)
    next_track = struct.pack(">I", 3)
    return _full_box(b"mvhd", version, 0, dated, rate_volume, _MATRIX, bytes(24), next_track)


def _trak(
    track_id: int,
    source: Track,
    samples: _Samples,
    tables: list[bytes],
    duration: int,
    media_start: int,
) -> bytes:
    """One track of the joined file, showing `duration` (movie timescale) of its media from
    `media_start` (track timescale) on."""
    video = source.kind == "vide"
    fmt = source.format
    width, height = (fmt.width, fmt.height) if isinstance(fmt, VideoFormat) else (0, 0)
    version, dated = _dated(duration, track_id, 0)
    tkhd = _full_box(
        b"tkhd", version, 0x3,  # enabled, in the movie
        dated, bytes(8), struct.pack(">hhhH", 0, 0, 0 if video else 0x100, 0),
        _MATRIX, struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    if duration > _UINT32 or media_start > 0x7FFFFFFF:
        elst = _full_box(b"elst", 1, 0, struct.pack(">IQqhh", 1, duration, media_start, 1, 0))
    else:
        elst = _full_box(b"elst", 0, 0, struct.pack(">IIihh", 1, duration, media_start, 1, 0))
    version, dated = _dated(sum(samples.durations), source.timescale)
    mdhd = _full_box(b"mdhd", version, 0, dated, struct.pack(">HH", 0x55C4, 0))  # "und"
    handler, name = (b"vide", b"VideoHandler") if video else (b"soun", b"SoundHandler")
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), name + b"\0")
    media_header = (
        _full_box(b"vmhd", 0, 1, bytes(8)) if video else _full_box(b"smhd", 0, 0, bytes(4))
    )
    dref = _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), source.entry),
        *tables,
        *([] if video else _aac_roll(len(samples.sizes))),
    )
    minf = _box(b"minf", media_header, _box(b"dinf", dref), stbl)
    return _box(b"trak", tkhd, _box(b"edts", elst), _box(b"mdia", mdhd, hdlr, minf))


def _table(kind: bytes, rows: list[int], row: str) -> bytes:
    count = len(rows) // len(row)
    return _full_box(kind, 0, 0, struct.pack(f">I{row * count}", count, *rows))


def _run_lengths(values: list[int]) -> list[int]:
    """[count, value, count, value, ...] as stts and ctts store them."""
    return [n for value, run in itertools.groupby(values) for n in (len(list(run)), value)]


def _sample_tables(samples: _Samples) -> tuple[list[bytes], list[int]]:
    """The sample tables but the chunk offsets, and the chunk offsets within the payload."""
    # A chunk is a run of samples stored back to back.
    chunks: list[int] = []
    per_chunk: list[int] = []
    end = -1
    for offset, size in zip(samples.offsets, samples.sizes, strict=True):
        if offset != end:
            chunks.append(offset)
            per_chunk.append(0)
        per_chunk[-1] += 1
        end = offset + size
    stsc: list[int] = []
    for chunk, count in enumerate(per_chunk, start=1):
        if not stsc or stsc[-2] != count:
            stsc += [chunk, count, 1]
    tables = [_table(b"stts", _run_lengths(samples.durations), "II")]
    if not all(samples.sync):
        tables.append(_table(b"stss", [i for i, s in enumerate(samples.sync, 1) if s], "I"))
    if any(samples.composition):
        # Never negative (each clip's offsets moved by G - M >= 0), so version 0 holds them.
        tables.append(_table(b"ctts", _run_lengths(samples.composition), "II"))
    sizes = struct.pack(f">II{len(samples.sizes)}I", 0, len(samples.sizes), *samples.sizes)
    tables += [_table(b"stsc", stsc, "III"), _full_box(b"stsz", 0, 0, sizes)]
    return tables, chunks


def _chunk_offsets(chunks: list[int], base: int, large: bool) -> bytes:
    """stco, or co64 when the file passes 4 GiB; `base` is where the mdat's payload starts."""
    offsets = [base + chunk for chunk in chunks]
    return _table(b"co64", offsets, "Q") if large else _table(b"stco", offsets, "I")


def _aac_roll(count: int) -> list[bytes]:
    """Each AAC frame needs the one before it to decode, as ffmpeg marks it in the clips."""
    return [
        _full_box(b"sgpd", 1, 0, b"roll", struct.pack(">IIh", 2, 1, -1)),
        _full_box(b"sbgp", 0, 0, b"roll", struct.pack(">III", 1, count, 1)),
    ]
