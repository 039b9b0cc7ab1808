"""Media: video probing and the renderers that turn pixels into MP4 files."""
