"""ipywidgets views for the notebooks. Never imported by the runner (``lab`` extra)."""
