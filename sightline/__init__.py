"""Sightline: the engine behind the responsible-AI and model-monitoring dashboard.

Plain Python, no Streamlit: every result here feeds both the dashboard pages and the
exported model card, so the two can never disagree.
"""

__version__ = "0.1.0"
