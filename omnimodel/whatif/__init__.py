"""What-if scenarios: pure vectorised functions over forecast draws (``engine``) and the ipywidgets panel
that drives them (``widgets``). A scenario change never refits a model."""
