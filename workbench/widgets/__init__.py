"""ipywidgets views for the notebooks: reviewing drafted eval cases, exploring chunks, browsing failures and
moving cost sliders; and the notebooks' plot style (a colour per tier, legends beside the data). Never imported by
the runner (``lab`` extra).

    from workbench.widgets import review_form, chunk_explorer, failure_browser, projection_sliders
    from workbench.widgets import colours_for, legend_outside
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "review_form": ".review", "chunk_explorer": ".chunks", "failure_browser": ".failures",
    "projection_sliders": ".costs",
    "colour_for": ".._util.figures", "colours_for": ".._util.figures",
    "legend_outside": ".._util.figures",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
