"""The planners' Streamlit dashboard (``wfm dashboard``); see ``app.py``."""
