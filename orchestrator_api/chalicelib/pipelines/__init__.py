"""Pipeline types: what one is (``pipeline_type``), one renderer per family, and the catalog of them all.

Imported by provisioning and the layers above it. Renderers are handed a ``RenderContext``
and never import the catalog; the catalog imports them.
"""
