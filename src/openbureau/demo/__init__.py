"""Demo data: furnishing submissions built from the vendored Taiwan credit card dataset.

See :mod:`openbureau.demo.taiwan` (``build_demo_submissions``, ``write_submission``).
"""
