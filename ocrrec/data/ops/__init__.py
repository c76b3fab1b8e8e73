from ocrrec.data.ops import augment  # noqa: F401
