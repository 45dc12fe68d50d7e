"""Hostile input: bodies and config uploads built to break the parser or slip past validation.

Each one must get a 4xx that names the field and the problem (or a well-defined accept,
where the input is valid after all), never a 5xx, and nothing may be written. ``cases``
holds the tables; the ``long`` marker holds a larger generated variant that ``make test``
leaves out.
"""
