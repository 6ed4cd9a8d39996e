"""wfm: workforce management and forecasting for omnichannel contact centers.

Pipeline: history -> :mod:`wfm.forecast` -> :mod:`wfm.staffing` (requirements)
-> :mod:`wfm.scheduling` (shifts, assignments) -> :mod:`wfm.coverage`;
:mod:`wfm.plan` chains them. Data frames follow the column contracts in
README.md; scenarios are :class:`wfm.config.Scenario` objects loaded from TOML.
"""

from wfm.config import Scenario, load_scenario
from wfm.errors import WfmError

__version__ = "0.1.0"

__all__ = ["Scenario", "WfmError", "__version__", "load_scenario"]
