"""Settings are checked when they load: every setting declares what it allows; a bad value,
an unknown key or section, a TOML syntax error or a misspelled command is exit 2 naming the
key, for every command, never a traceback. Assertions are on exit codes and keys, not wording."""
from __future__ import annotations

import pytest

from conftest import AS_OF, ROOT
from campaignwatch.cli import main
from campaignwatch.config import RELATIONS, SETTING_BY_KEY, SETTINGS, ConfigError, check_value, defaults, load


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problem_keys(path) -> set[str]:
    with pytest.raises(ConfigError) as info:
        load(str(path))
    return {p.key for p in info.value.problems}


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "clean.xlsx"
    assert main(["init", str(path), "--as-of", AS_OF.isoformat()]) == 0
    return path


# -- the declarations ---------------------------------------------------------------------

def test_every_setting_declares_what_it_allows():
    for s in SETTINGS:
        assert isinstance(s.default, bool) or s.choices or s.allowed is not None, s.key


def test_every_default_is_allowed_and_the_relations_hold_on_the_defaults():
    for s in SETTINGS:
        assert check_value(s, s.default, ROOT) is None, s.key
    values = defaults().values
    assert all(rel.holds(values) for rel in RELATIONS)


def test_the_documented_config_toml_loads_with_every_default():
    cfg = load(str(ROOT / "config.toml"))
    assert cfg.values == defaults().values


def test_a_whole_number_is_accepted_where_a_decimal_is_expected(tmp_path):
    cfg = load(str(write(tmp_path, "[kpi]\ngreen_at = 1\n[google]\ntimeout_seconds = 5\n")))
    assert (cfg["kpi.green_at"], type(cfg["kpi.green_at"])) == (1.0, float)
    assert cfg["google.timeout_seconds"] == 5.0


# -- values out of range, every kind -----------------------------------------------------

BAD_VALUES = [
    ("rules", "nearly_used_at", "1.5"),                 # fraction
    ("kpi", "green_at", "-0.1"),                        # fraction
    ("rules", "burn_ahead_min_utilisation", "2"),       # fraction
    ("rules", "overrun_tolerance_pct", "101"),          # percentage
    ("rules", "overrun_tolerance_min", "-1"),           # money, not negative
    ("rules", "expense_grace_days", "-1"),              # day count
    ("rules", "expense_grace_days", "7.5"),             # a decimal for a whole number
    ("rules", "kpi_stale_days", "true"),                # a bool for a number
    ("rules", "incident_escalation_hours", "-24"),      # hour count
    ("rules", "risk_high_score", "26"),                 # probability × impact, 1–25
    ("kpi", "attainment_cap", "0.5"),
    ("google", "timeout_seconds", "0"),                 # above 0
    ("google", "max_retries", "2.0"),
    ("email", "port", "70000"),
    ("schedule", "time", '"25:00"'),
    ("schedule", "time", '"6:30"'),
    ("schedule", "time", '"06:60"'),
    ("general", "timezone", '"Mars/Base"'),
    ("general", "timezone", '"../etc/passwd"'),
    ("general", "language", '"fr"'),
    ("general", "currency", '"RMB1"'),
    ("general", "currency", '"cny"'),
    ("general", "day_first", '"yes"'),
    ("severity", "OVERRUN_UNAPPROVED", '"critical"'),
    ("email", "security", '"tls"'),
    ("email", "to", '["not-an-address"]'),
    ("email", "to", '"a@example.com"'),                 # a list is expected
    ("email", "sender", '"nobody"'),
    ("email", "host", '"smtp://mail.example.com"'),
    ("email", "password_env", '"MY-PASSWORD"'),
    ("webhooks", "wecom_url", '"ftp://example.com/hook"'),
    ("webhooks", "feishu_url", '"open.feishu.cn/hook/x"'),
    ("google", "api_url", '"localhost:8085"'),
    ("history", "path", '"config.toml/history.sqlite"'),  # its "folder" is a file
    ("history", "path", '""'),
    ("dashboard", "path", '"dashboard.csv"'),
    ("log", "path", '"."'),                               # a folder
]


@pytest.mark.parametrize("section, name, value", BAD_VALUES)
def test_a_value_not_allowed_is_exit_2_naming_the_key(tmp_path, capsys, workbook, section, name, value):
    cfg = write(tmp_path, f"[{section}]\n{name} = {value}\n")
    assert problem_keys(cfg) == {f"{section}.{name}"}
    assert main(["--config", str(cfg), "validate", str(workbook)]) == 2
    err = capsys.readouterr().err
    assert f"{section}.{name}" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1                 # one sentence


def test_amber_above_green_is_refused(tmp_path):
    assert problem_keys(write(tmp_path, "[kpi]\ngreen_at = 0.7\namber_at = 0.8\n")) == {"kpi.amber_at"}
    load(str(write(tmp_path, "[kpi]\ngreen_at = 0.8\namber_at = 0.8\n")))          # equal is fine


def test_every_problem_is_listed_at_once(tmp_path):
    cfg = write(tmp_path, '[schedule]\ntime = "25:00"\n[general]\ntimezone = "Mars/Base"\n[rules]\nnearly_usd_at = 1\n')
    assert problem_keys(cfg) == {"schedule.time", "general.timezone", "rules.nearly_usd_at"}


# -- unknown keys, sections, commands; TOML syntax ------------------------------------------

@pytest.mark.parametrize("text, key, suggestion", [
    ("[rules]\nnearly_usd_at = 0.8\n", "rules.nearly_usd_at", "rules.nearly_used_at"),
    ("[rules]\ngreen_at = 0.9\n", "rules.green_at", "kpi.green_at"),               # right name, wrong section
    ("[severity]\nOVERRUN_UNAPPROVD = \"high\"\n", "severity.OVERRUN_UNAPPROVD", "severity.OVERRUN_UNAPPROVED"),
    ("[genral]\nlanguage = \"en\"\n", "[genral]", "[general]"),
    ("[webhook]\nwecom_url = \"\"\n", "[webhook]", "[webhooks]"),
    ("[[sources]]\nsorce = \"a.xlsx\"\n", "sources[1].sorce", "source"),
])
def test_an_unknown_key_or_section_suggests_the_close_one(tmp_path, capsys, workbook, text, key, suggestion):
    cfg = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(str(cfg))
    (problem,) = info.value.problems
    assert problem.key == key and suggestion in problem.message.replace(key, "")
    assert main(["--config", str(cfg), "validate", str(workbook)]) == 2
    assert key in capsys.readouterr().err


def test_a_misspelled_command_suggests_the_close_one(capsys):
    assert main(["synk"]) == 2
    err = capsys.readouterr().err
    assert "did you mean sync?" in err and "Traceback" not in err
    assert main(["chek"]) == 2
    assert "did you mean check?" in capsys.readouterr().err


def test_a_toml_syntax_error_names_its_line(tmp_path, capsys, workbook):
    cfg = write(tmp_path, '[general]\nlanguage = "en"\ncurrency = \n')
    with pytest.raises(ConfigError) as info:
        load(str(cfg))
    assert "line 3" in str(info.value) and len(str(info.value).splitlines()) == 1
    assert main(["--config", str(cfg), "validate", str(workbook)]) == 2
    assert "line 3" in capsys.readouterr().err


COMMANDS = [
    ["init", "new.xlsx"], ["validate", "{wb}"], ["sync", "{wb}"], ["nightly", "--once"], ["report", "--week"],
    ["restore", "{wb}"], ["clean", "{wb}"], ["check"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_every_command_refuses_a_bad_setting_before_doing_anything(tmp_path, capsys, workbook, argv):
    cfg = write(tmp_path, '[schedule]\ntime = "25:00"\n[[sources]]\nsource = "clean.xlsx"\n')
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    args = [a.replace("{wb}", str(workbook)).replace("new.xlsx", str(tmp_path / "new.xlsx")) for a in argv]
    assert main(["--config", str(cfg), *args]) == 2
    out = capsys.readouterr()
    assert "schedule.time" in out.err + out.out and "Traceback" not in out.err
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before


def test_a_missing_config_file_is_exit_2(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.toml"), "validate", "x.xlsx"]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_setting_by_key_covers_every_setting():
    assert set(SETTING_BY_KEY) == {s.key for s in SETTINGS}
