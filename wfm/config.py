"""Scenario configuration: pydantic models loaded from TOML.

A scenario describes one contact center: the site (time zone, interval
length), its channels and their service targets, shrinkage and occupancy,
shift templates, the agent roster, the planning horizon, the forecast and the
solver settings. Every field has a default, so a scenario can be a few lines;
an unknown or wrong field is a :class:`wfm.errors.ConfigError` that names the
file, the field and what was expected.

Examples
--------
>>> from wfm.config import Scenario
>>> s = Scenario.model_validate({"channels": [{"name": "voice"}]})
>>> s.site.interval_minutes
15
>>> s.channel("voice").kind
'realtime'
"""

from __future__ import annotations

import datetime as dt
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from wfm.errors import ConfigError

ChannelKind = Literal["realtime", "concurrent", "deferred"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Fraction01 = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]


def _parse_hhmm(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a time as 'HH:MM', got {value!r}")
    try:
        hh, mm = value.strip().split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise ValueError(f"expected a time as 'HH:MM', got {value!r}") from None
    if h == 24 and m == 0:
        return dt.time(23, 59, 59, 999999)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"expected a time as 'HH:MM' between 00:00 and 24:00, got {value!r}")
    return dt.time(h, m)


HHMM = Annotated[dt.time, Field(description="local time of day, 'HH:MM'")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Site(_Model):
    """The contact center's location and time grid."""

    name: str = Field("Contact center", description="display name of the site")
    timezone: str = Field(
        "Europe/Berlin",
        description="IANA time zone of the site; every timestamp is local time in this zone",
    )
    interval_minutes: Literal[15, 30, 60] = Field(
        15, description="length of one planning interval [min]: 15, 30 or 60"
    )
    country: str | None = Field(
        "DE", description="ISO country code for public holidays (None: no public holidays)"
    )
    subdivision: str | None = Field(
        None, description="state/province code for regional public holidays, e.g. 'NW'"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"expected an IANA time zone such as 'Europe/Berlin', got {v!r}"
            ) from None
        return v


class Channel(_Model):
    """One contact channel and its service target.

    ``kind`` decides the staffing math: ``realtime`` (phone; Erlang C, or
    Erlang A when ``patience_seconds`` is set), ``concurrent`` (chat; one agent
    serves up to ``concurrency`` sessions at once) or ``deferred`` (e-mail,
    social media, letters; every item answered within
    ``response_time_hours``). A channel with ``derived_from`` takes its volume
    from that channel times ``derived_rate`` (chatbot hand-offs).
    """

    name: str = Field(..., min_length=1, description="channel name as used in the data")
    kind: ChannelKind = Field("realtime", description="realtime | concurrent | deferred")
    service_level_target: Fraction01 = Field(
        0.8, description="share of contacts answered within answer_seconds (0-1)"
    )
    answer_seconds: float = Field(
        20.0, ge=0.0, description="the T of 'X% answered in T seconds' [s]"
    )
    aht_seconds: PositiveFloat = Field(
        300.0, description="default average handle time when history has none [s]"
    )
    concurrency: int = Field(
        1, ge=1, le=20, description="sessions one agent serves at once (concurrent channels)"
    )
    patience_seconds: float | None = Field(
        None, gt=0.0, description="mean customer patience [s]; enables Erlang A (abandonment)"
    )
    response_time_hours: float | None = Field(
        None, gt=0.0, description="deferred channels: every item answered within this [h]"
    )
    asa_target_seconds: float | None = Field(
        None, gt=0.0, description="optional additional target on average speed of answer [s]"
    )
    max_occupancy: Fraction01 | None = Field(
        None, description="channel-specific occupancy cap (0-1); default: staffing.max_occupancy"
    )
    shrinkage: Fraction01 | None = Field(
        None, description="channel-specific shrinkage (0-1); default: staffing.shrinkage"
    )
    priority: PositiveFloat = Field(
        1.0, description="weight of this channel's under-coverage in the scheduler"
    )
    derived_from: str | None = Field(
        None, description="source channel whose volume times derived_rate gives this volume"
    )
    derived_rate: Fraction01 | None = Field(
        None, description="share of the source channel's volume handed to this channel (0-1)"
    )
    staffed: bool = Field(
        True, description="False for channels served by no agent (e.g. chatbot sessions)"
    )

    @model_validator(mode="after")
    def _kind_fields(self) -> Channel:
        if self.kind == "deferred" and self.response_time_hours is None:
            self.response_time_hours = 24.0
        if (self.derived_from is None) != (self.derived_rate is None):
            raise ValueError("derived_from and derived_rate must be given together")
        if self.kind != "concurrent" and self.concurrency != 1:
            raise ValueError(
                f"concurrency is only used by kind 'concurrent'; channel {self.name!r} "
                f"is {self.kind!r}, expected concurrency = 1"
            )
        return self


class Staffing(_Model):
    """Shrinkage and occupancy applied to every channel unless it overrides them."""

    shrinkage: Fraction01 = Field(
        0.30,
        description="share of paid time agents are not available (breaks excluded "
        "when the scheduler places them, training, meetings, absence), 0-1",
    )
    max_occupancy: Fraction01 = Field(
        0.85, description="cap on the share of time agents are busy (0-1)"
    )
    min_agents: int = Field(
        0, ge=0, description="minimum agents on a channel in any interval with volume > 0"
    )

    @field_validator("shrinkage")
    @classmethod
    def _below_one(cls, v: float) -> float:
        if v >= 1.0:
            raise ValueError("expected shrinkage below 1 (100% shrinkage leaves nobody)")
        return v


class BreakRule(_Model):
    """A break inside a shift, placed by the scheduler within its window."""

    minutes: int = Field(30, gt=0, le=120, description="break length [min]")
    paid: bool = Field(False, description="paid breaks count toward contract hours")
    earliest_after_start_minutes: int = Field(
        120, ge=0, description="break starts no earlier than this after shift start [min]"
    )
    latest_after_start_minutes: int = Field(
        300, ge=0, description="break starts no later than this after shift start [min]"
    )
    min_before_end_minutes: int = Field(
        60, ge=0, description="break ends at least this long before shift end [min]"
    )

    @model_validator(mode="after")
    def _window(self) -> BreakRule:
        if self.latest_after_start_minutes < self.earliest_after_start_minutes:
            raise ValueError(
                "latest_after_start_minutes must be >= earliest_after_start_minutes"
            )
        return self


class ShiftTemplate(_Model):
    """A family of shifts: start window, lengths and break rules."""

    name: str = Field(..., min_length=1)
    start_earliest: HHMM = Field(dt.time(6, 0), description="earliest start 'HH:MM'")
    start_latest: HHMM = Field(dt.time(14, 0), description="latest start 'HH:MM'")
    start_step_minutes: int = Field(30, gt=0, description="step between allowed starts [min]")
    lengths_hours: list[PositiveFloat] = Field(
        default_factory=lambda: [8.0], description="allowed shift lengths incl. breaks [h]"
    )
    days: list[str] = Field(
        default_factory=lambda: list(WEEKDAYS), description="weekdays this template is used"
    )
    channels: list[str] | None = Field(
        None, description="restrict to agents working these channels (None: any)"
    )
    breaks: list[BreakRule] = Field(default_factory=list)

    @field_validator("start_earliest", "start_latest", mode="before")
    @classmethod
    def _parse_times(cls, v: Any) -> dt.time:
        return _parse_hhmm(v)

    @field_validator("days")
    @classmethod
    def _weekdays(cls, v: list[str]) -> list[str]:
        out = [d.strip().lower()[:3] for d in v]
        bad = [d for d, o in zip(v, out) if o not in WEEKDAYS]
        if bad:
            raise ValueError(f"expected weekday names {list(WEEKDAYS)}, got {bad}")
        return out


def _default_templates() -> list[ShiftTemplate]:
    return [
        ShiftTemplate(
            name="full_day",
            start_earliest=dt.time(6, 0),
            start_latest=dt.time(14, 0),
            lengths_hours=[8.0, 8.5],
            breaks=[BreakRule(minutes=30, earliest_after_start_minutes=180,
                              latest_after_start_minutes=300)],
        ),
        ShiftTemplate(
            name="part_time",
            start_earliest=dt.time(7, 0),
            start_latest=dt.time(18, 0),
            lengths_hours=[4.0, 6.0],
            breaks=[BreakRule(minutes=15, paid=True, earliest_after_start_minutes=90,
                              latest_after_start_minutes=240, min_before_end_minutes=45)],
        ),
    ]


class Agents(_Model):
    """Where the roster is and the contract defaults for columns it leaves out."""

    file: Path | None = Field(None, description="roster CSV/Parquet, relative to the scenario")
    min_rest_hours: float = Field(11.0, ge=0.0, description="minimum rest between shifts [h]")
    max_consecutive_days: int = Field(6, ge=1, le=14, description="max working days in a row")


class Horizon(_Model):
    """The period to forecast, staff and schedule."""

    start: dt.date | None = Field(
        None, description="first planned day; default: the day after the history ends"
    )
    days: int = Field(7, ge=1, le=366, description="number of days to plan")


class SpecialDay(_Model):
    """A holiday or event that changes volume on one date."""

    date: dt.date
    name: str = ""
    channels: list[str] | None = Field(None, description="affected channels (None: all)")
    multiplier: float | None = Field(
        None, ge=0.0, description="volume multiplier on that day, e.g. 1.3 for a campaign"
    )
    closed: bool = Field(False, description="the channels are closed: volume 0")

    @model_validator(mode="after")
    def _one_effect(self) -> SpecialDay:
        if self.closed and self.multiplier not in (None, 0.0):
            raise ValueError("a special day is either closed or has a multiplier, not both")
        return self


class Forecast(_Model):
    """Forecast settings."""

    model: str = Field("auto", description="'auto' or a model name")
    horizon_days: int = Field(14, ge=1, le=366, description="days to forecast")
    backtest_origins: int = Field(5, ge=1, le=52, description="rolling origins in the backtest")
    backtest_horizon_days: int = Field(7, ge=1, le=60, description="days per backtest origin")
    interval_level: float = Field(0.8, gt=0.0, lt=1.0, description="prediction-interval level")
    history_weeks: int | None = Field(
        None, ge=2, description="use only the last N weeks of history (None: all)"
    )
    ensemble: bool = Field(False, description="average the best models instead of picking one")


class Solver(_Model):
    """MILP solver settings."""

    backend: Literal["highs", "cbc"] = Field("highs", description="highs | cbc: solver of "
                                             "the MILPs (the LP relaxation always uses HiGHS)")
    time_limit_seconds: float = Field(120.0, gt=0.0, description="wall-clock limit [s]")
    gap: float = Field(0.01, ge=0.0, lt=1.0, description="relative gap to the best bound "
                       "at which the MILPs and the scheduler's local search stop")
    threads: int | None = Field(None, ge=1, description="solver threads (None: solver "
                                "default); 1 also keeps the scheduler's own steps on one "
                                "core (its LP for the bound and its skill groups one after "
                                "the other)")
    msg: bool = Field(False, description="print the solver's own log")


class SchedulingWeights(_Model):
    """Weights of the scheduler's objective (all per agent-hour)."""

    under_coverage: float = Field(100.0, ge=0.0, description="penalty per agent-hour short")
    over_coverage: float = Field(1.0, ge=0.0, description="penalty per agent-hour over")
    labour_cost: float = Field(0.5, ge=0.0, description="cost per scheduled paid hour")
    preference: float = Field(2.0, ge=0.0, description="penalty per unmet shift preference")
    backlog: float = Field(5.0, ge=0.0, description="penalty per agent-hour of deferred work "
                           "carried to the next interval")


class Data(_Model):
    """Input data files, relative to the scenario file."""

    history: Path | None = Field(None, description="history CSV/Parquet")


class Scenario(_Model):
    """A complete planning scenario. See the module docstring."""

    site: Site = Field(default_factory=Site)
    channels: list[Channel] = Field(default_factory=list)
    staffing: Staffing = Field(default_factory=Staffing)
    shift_templates: list[ShiftTemplate] = Field(default_factory=_default_templates)
    agents: Agents = Field(default_factory=Agents)
    data: Data = Field(default_factory=Data)
    horizon: Horizon = Field(default_factory=Horizon)
    forecast: Forecast = Field(default_factory=Forecast)
    solver: Solver = Field(default_factory=Solver)
    weights: SchedulingWeights = Field(default_factory=SchedulingWeights)
    special_days: list[SpecialDay] = Field(default_factory=list)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="<scenario>")

    @model_validator(mode="after")
    def _channels_consistent(self) -> Scenario:
        names = [c.name for c in self.channels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"channel names must be unique, duplicated: {dup}")
        known = set(names)
        for c in self.channels:
            if c.derived_from is not None:
                if c.derived_from not in known:
                    raise ValueError(
                        f"channel {c.name!r}: derived_from {c.derived_from!r} is not a "
                        f"channel; expected one of {sorted(known)}"
                    )
                if c.derived_from == c.name:
                    raise ValueError(f"channel {c.name!r} cannot be derived from itself")
        for t in self.shift_templates:
            for ch in t.channels or []:
                if known and ch not in known:
                    raise ValueError(
                        f"shift template {t.name!r}: channel {ch!r} unknown; "
                        f"expected one of {sorted(known)}"
                    )
        for d in self.special_days:
            for ch in d.channels or []:
                if known and ch not in known:
                    raise ValueError(
                        f"special day {d.date}: channel {ch!r} unknown; "
                        f"expected one of {sorted(known)}"
                    )
        return self

    # -- convenience -----------------------------------------------------
    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the scenario are resolved against."""
        return self._base_dir

    @property
    def source(self) -> str:
        """Where the scenario came from (file path or '<scenario>')."""
        return self._source

    def resolve(self, path: Path | str | None) -> Path | None:
        """Resolve a path from the scenario relative to the scenario file."""
        if path is None:
            return None
        p = Path(path)
        return p if p.is_absolute() else (self._base_dir / p)

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    @property
    def staffed_channels(self) -> list[Channel]:
        """Channels that agents work (excludes e.g. chatbot sessions)."""
        return [c for c in self.channels if c.staffed]

    def channel(self, name: str) -> Channel:
        """The channel called ``name``; a :class:`ConfigError` lists valid names."""
        for c in self.channels:
            if c.name == name:
                return c
        raise ConfigError(
            f"{self._source}: unknown channel {name!r}; expected one of {self.channel_names}"
        )

    def shrinkage_of(self, name: str) -> float:
        c = self.channel(name)
        return self.staffing.shrinkage if c.shrinkage is None else c.shrinkage

    def max_occupancy_of(self, name: str) -> float:
        c = self.channel(name)
        return self.staffing.max_occupancy if c.max_occupancy is None else c.max_occupancy

    def with_base_dir(self, base_dir: Path | str, source: str | None = None) -> Scenario:
        self._base_dir = Path(base_dir)
        if source is not None:
            self._source = source
        return self


def _describe_loc(loc: tuple, data: Any) -> str:
    """Dotted field path; list items are named by their ``name`` where they have one."""
    parts: list[str] = []
    node = data
    for p in loc:
        if isinstance(p, int) and isinstance(node, list) and p < len(node):
            item = node[p]
            name = item.get("name") if isinstance(item, dict) else None
            parts[-1:] = [f"{parts[-1]}[{name!r}]" if name and parts else
                          f"{parts[-1] if parts else ''}[{p}]"]
            node = item
        else:
            parts.append(str(p))
            node = node.get(p) if isinstance(node, dict) else None
    return ".".join(parts) or "<top level>"


def _format_errors(source: str, err: ValidationError, data: Any = None) -> str:
    lines = [f"{source}: {err.error_count()} problem(s) in the scenario"]
    for e in err.errors():
        loc = _describe_loc(e["loc"], data)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see the scenario reference in README)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        found = e.get("input")
        found_s = ""
        if e["type"] not in ("missing",) and not isinstance(found, dict | list):
            found_s = f" (found {found!r})"
        lines.append(f"  - field '{loc}': {msg}{found_s}")
    return "\n".join(lines)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>",
                       base_dir: Path | str | None = None) -> Scenario:
    """Validate a scenario given as a dict (e.g. parsed TOML).

    Raises
    ------
    ConfigError
        Naming ``source``, every bad field, what was found and what was expected.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err, data)) from None
    return scenario.with_base_dir(base_dir if base_dir is not None else Path.cwd(), source)


def load_scenario(path: Path | str) -> Scenario:
    """Load and validate a scenario TOML file.

    Relative paths inside the file (roster, history) are resolved against the
    file's folder.

    Examples
    --------
    >>> from wfm.config import load_scenario
    >>> s = load_scenario("sample_data/scenario.toml")  # doctest: +SKIP
    >>> [c.name for c in s.channels]  # doctest: +SKIP
    ['voice', 'chat', 'email', 'social', 'letters', 'chatbot', 'chatbot_handoff']
    """
    p = Path(path)
    data = _read_toml(p)
    if "sites" in data:
        names = [e.get("site", {}).get("name", "?") for e in data["sites"]
                 if isinstance(e, dict) and isinstance(e.get("site", {}), dict)]
        raise ConfigError(
            f"{p}: a multi-site scenario ({len(data['sites'])} [[sites]]: "
            f"{', '.join(map(str, names[:5]))}{', ...' if len(names) > 5 else ''}); "
            "'wfm plan' plans every site, other commands take one site's scenario "
            "(wfm.config.load_group(path).site(name) in Python)")
    return scenario_from_dict(data, source=str(p), base_dir=p.resolve().parent)


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` with dotted-key overrides applied and re-validated.

    Examples
    --------
    >>> s = Scenario.model_validate({"channels": [{"name": "voice"}]})
    >>> apply_overrides(s, {"staffing.shrinkage": 0.25}).staffing.shrinkage
    0.25
    """
    data = scenario.model_dump(mode="python")
    for key, value in overrides.items():
        node: Any = data
        parts = key.split(".")
        for part in parts[:-1]:
            if isinstance(node, list):
                node = next((x for x in node if x.get("name") == part), None)
                if node is None:
                    raise ConfigError(f"override {key!r}: no item named {part!r}")
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise ConfigError(f"override {key!r}: unknown field {part!r}")
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ConfigError(f"override {key!r}: unknown field {parts[-1]!r}")
        node[parts[-1]] = value
    return scenario_from_dict(data, source=f"{scenario.source} (with overrides)",
                              base_dir=scenario.base_dir)


# -- multi-site groups ------------------------------------------------------
class Group(_Model):
    """``[group]``: the name of a multi-site group."""

    name: str = Field("Contact-center group", description="display name of the group")


_GROUP_KEYS = ("group", "sites")
_SITE_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, everything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class GroupScenario:
    """Several sites planned together: one :class:`Scenario` per site.

    A group file is a scenario TOML whose top-level sections are defaults
    shared by every site and whose ``[[sites]]`` entries each hold a partial
    scenario (its own ``[sites.site]``, ``[[sites.channels]]``,
    ``[sites.agents]``, ...) merged over those defaults: tables merge key by
    key, lists (channels, shift templates, special days) replace. An entry
    may also say ``file = "amsterdam.toml"`` to take a site scenario from its
    own file (merged the same way, inline keys last). A file without
    ``[[sites]]`` is a group of one site, so every scenario is a group.

    Attributes
    ----------
    name : str
        The group's display name.
    sites : dict[str, Scenario]
        Site name -> its complete, validated scenario (file order).
    multi_site : bool
        True when the file lists ``[[sites]]``: frames then carry a ``site`` column.
    defaults : Scenario
        The shared sections alone (for group-wide settings such as the forecast).
    """

    def __init__(self, name: str, sites: dict[str, Scenario], multi_site: bool,
                 defaults: Scenario, source: str = "<scenario>"):
        self.name = name
        self.sites = sites
        self.multi_site = multi_site
        self.defaults = defaults
        self.source = source

    @property
    def site_names(self) -> list[str]:
        return list(self.sites)

    def site(self, name: str) -> Scenario:
        """The scenario of site ``name``; a :class:`ConfigError` lists valid names."""
        try:
            return self.sites[name]
        except KeyError:
            raise ConfigError(f"{self.source}: unknown site {name!r}; expected one of "
                              f"{self.site_names}") from None

    def __repr__(self) -> str:
        return f"GroupScenario({self.name!r}, sites={self.site_names})"


def _read_toml(p: Path, what: str = "scenario") -> dict[str, Any]:
    if not p.is_file():
        raise ConfigError(f"{p}: {what} file not found")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{p}: not valid TOML: {err}") from None


def group_from_dict(data: dict[str, Any], source: str = "<scenario>",
                    base_dir: Path | str | None = None) -> GroupScenario:
    """Validate a (possibly multi-site) scenario given as a dict; see :class:`GroupScenario`.

    Raises
    ------
    ConfigError
        Naming the file, the site and every bad field.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    defaults_data = {k: v for k, v in data.items() if k not in _GROUP_KEYS}
    try:
        group = Group.model_validate(data.get("group", {}))
    except ValidationError as err:
        raise ConfigError(_format_errors(f"{source} [group]", err, data.get("group"))) from None
    entries = data.get("sites")
    defaults = scenario_from_dict(defaults_data, source=source, base_dir=base)
    if entries is None:
        return GroupScenario(group.name, {defaults.site.name: defaults}, False, defaults,
                             source)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: field 'sites' must be a non-empty list of "
                          "[[sites]] tables")
    sites: dict[str, Scenario] = {}
    for i, entry in enumerate(entries):
        where = f"{source} sites[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a [[sites]] table, found {entry!r}")
        entry = dict(entry)
        merged = defaults_data
        site_base = base
        file = entry.pop("file", None)
        if file is not None:
            fp = Path(file) if Path(file).is_absolute() else base / file
            own = _read_toml(fp, "site scenario")
            merged = _deep_merge(merged, own)
            where = f"{where} ({fp})"
        merged = _deep_merge(merged, entry)
        name = merged.get("site", {}).get("name") if isinstance(merged.get("site"), dict) \
            else None
        if not name:
            raise ConfigError(f"{where}: field 'site.name' is required for every site of a "
                              "group (it is the value of the 'site' column)")
        where = f"{source} sites[{i}] {name!r}"
        bad = set(str(name)) - _SITE_NAME_OK
        if bad:
            raise ConfigError(f"{where}: field 'site.name' = {name!r} may only hold letters, "
                              f"digits, '_', '-' and '.'; found {sorted(bad)}")
        if name in sites:
            raise ConfigError(f"{where}: field 'site.name': duplicate site {name!r}; "
                              "site names must be unique")
        sites[name] = scenario_from_dict(merged, source=where, base_dir=site_base)
    return GroupScenario(group.name, sites, True, defaults, source)


def load_group(path: Path | str) -> GroupScenario:
    """Load a scenario TOML as a group of sites (one site when it lists no ``[[sites]]``).

    Examples
    --------
    >>> from wfm.config import load_group
    >>> from wfm.sampledata import sample_scenario_path
    >>> g = load_group(sample_scenario_path())
    >>> g.multi_site, len(g.sites)
    (False, 1)
    """
    p = Path(path)
    data = _read_toml(p)
    return group_from_dict(data, source=str(p), base_dir=p.resolve().parent)
