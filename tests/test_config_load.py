"""config.load as a library call: defaults, where the file is found, coercion, relative paths,
sources, and every problem of a file listed at once (`ConfigError.problems`, by key)."""
from __future__ import annotations

import pytest

from campaignwatch.config import SETTINGS, defaults, load


def write(tmp_path, text, name="config.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path) -> list[str]:
    with pytest.raises(Exception) as info:
        load(str(path))
    assert type(info.value).__name__ == "ConfigError"
    return [p.key for p in info.value.problems]


def test_no_file_anywhere_is_the_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("CAMPAIGNWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    cfg = load(None)
    assert cfg.path is None and cfg.sources == []
    assert cfg.values == defaults().values == {s.key: s.default for s in SETTINGS}


def test_the_file_is_found_explicitly_then_by_the_variable_then_in_the_folder(tmp_path, monkeypatch):
    here = write(tmp_path, '[general]\nlanguage = "zh-CN"\n')
    env = write(tmp_path, '[general]\nlanguage = "en"\n', "env.toml")
    explicit = write(tmp_path, '[general]\nday_first = true\n', "explicit.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMPAIGNWATCH_CONFIG", raising=False)
    assert load(None).path == here.resolve()
    monkeypatch.setenv("CAMPAIGNWATCH_CONFIG", str(env))
    assert load(None).path == env.resolve()
    cfg = load(str(explicit))
    assert cfg.path == explicit.resolve() and cfg["general.day_first"] is True
    assert cfg["general.language"] == defaults()["general.language"]


def test_values_are_coerced_and_paths_resolve_against_the_files_folder(tmp_path):
    cfg = load(str(write(tmp_path, '[rules]\noverrun_tolerance_pct = 5\n[history]\npath = "h/x.sqlite"\n')))
    assert cfg["rules.overrun_tolerance_pct"] == 5.0 and isinstance(cfg["rules.overrun_tolerance_pct"], float)
    assert cfg.resolve(cfg["history.path"]) == tmp_path / "h" / "x.sqlite"


def test_sources_are_read_in_order(tmp_path):
    cfg = load(str(write(tmp_path, '[[sources]]\nsource = "a.xlsx"\nteam = "Brand"\n'
                                   '[[sources]]\nsource = "teams/*.xlsx"\nowner = "Ann"\n')))
    assert [(s.source, s.team, s.owner) for s in cfg.sources] == [("a.xlsx", "Brand", ""), ("teams/*.xlsx", "", "Ann")]


def test_every_problem_is_listed_at_once_by_key(tmp_path):
    path = write(tmp_path, '[general]\nlanguage = "fr"\nno_such = 1\n[kpi]\ngreen_at = 0.5\namber_at = 0.9\n'
                           '[genral]\nx = 1\n')
    keys = problems(path)
    assert "general.language" in keys and "general.no_such" in keys and "kpi.amber_at" in keys
    assert any("genral" in k for k in keys)


def test_a_file_that_is_missing_or_not_toml_is_one_problem(tmp_path):
    assert len(problems(tmp_path / "nope.toml")) == 1
    assert len(problems(write(tmp_path, "not toml [", "bad.toml"))) == 1
    assert len(problems(tmp_path)) == 1                                   # a folder
