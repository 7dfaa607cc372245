"""Pictures, sound and video files, with no Django and no project app: the ffmpeg layer every
clip is encoded with (`ffmpeg`), the camera move over a still (`camera`), the draft card
(`card`) and the MP4 reader and writer that joins clips by copying them (`mp4`).

Whatever a setting decides reaches these as an argument, from the app that read it.
"""
