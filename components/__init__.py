"""Streamlit presentation pieces: state, caching, sidebars, verdict badges, tables.

No statistics here: everything numeric comes from :mod:`sightline`.
"""
