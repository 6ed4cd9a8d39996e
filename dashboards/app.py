"""wfm dashboard: the entry script (``wfm dashboard`` or ``streamlit run dashboards/app.py``).

One ``st.navigation`` over the pages in ``views/``; the coverage-gap page is
the default. Every page reads its data through :mod:`dashboards.data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# ``dashboards`` is not an installed package: make ``import dashboards`` work
# from a source checkout whatever the working directory.
_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import streamlit as st  # noqa: E402

from dashboards import data, ui  # noqa: E402

st.set_page_config(page_title="wfm · coverage planner", page_icon=":material/calendar_month:",
                   layout="wide")

_VIEWS = Path(__file__).resolve().parent / "views"
pages = {
    "Plan": [
        st.Page(_VIEWS / "coverage.py", title="Coverage gaps", icon=":material/grid_on:",
                url_path="coverage", default=True),
        st.Page(_VIEWS / "what_if.py", title="What-if", icon=":material/tune:",
                url_path="what-if"),
    ],
    "Build the plan": [
        st.Page(_VIEWS / "data_sources.py", title="Data", icon=":material/upload_file:",
                url_path="data"),
        st.Page(_VIEWS / "forecast.py", title="Forecast", icon=":material/show_chart:",
                url_path="forecast"),
        st.Page(_VIEWS / "staffing.py", title="Staffing", icon=":material/groups:",
                url_path="staffing"),
        st.Page(_VIEWS / "schedule.py", title="Schedule", icon=":material/calendar_view_week:",
                url_path="schedule"),
    ],
}
nav = st.navigation(pages)
ui.sidebar(data.current_source())
nav.run()
