"""The README and config.toml document everything the code defines."""
from __future__ import annotations

import re
import tomllib

from conftest import ROOT
from campaignwatch.cli import COMMANDS, parser
from campaignwatch.config import SETTINGS
from campaignwatch.docs import render
from campaignwatch.findings import CATALOGUE
from campaignwatch.flagcodes import CODES as FLAG_CODES

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_generated_readme_blocks_are_fresh():
    assert render(README) == README, "run scripts/make_docs.py"


def test_every_command_and_option_is_in_the_readme():
    for name in COMMANDS:
        assert f"### `campaignwatch {name}" in README, name
    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, p in sub.choices.items():
        for action in p._actions:
            for opt in action.option_strings:
                if opt not in ("-h", "--help"):
                    assert opt in README, f"{name} {opt} is not documented"


def test_every_finding_code_and_setting_is_in_the_readme():
    for code in [*CATALOGUE, *FLAG_CODES]:
        assert f"`{code}`" in README
    for s in SETTINGS:
        assert f"`{s.key}`" in README


def test_config_example_sets_every_setting_to_its_default():
    data = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    flat = {f"{sec}.{k}": v for sec, body in data.items() if isinstance(body, dict) for k, v in body.items()}
    for s in SETTINGS:
        assert flat.get(s.key) == s.default, s.key


def test_exit_codes_are_documented():
    for code in range(5):
        assert re.search(rf"^\| {code} \|", README, re.M)


def test_layout_names_every_module_and_folder():
    """The README's Layout section names every module and package of lib/campaignwatch."""
    text = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    pkg = ROOT / "lib" / "campaignwatch"
    missing = []
    for p in sorted(pkg.iterdir()):
        if p.name.startswith("_") or p.name == "__pycache__":
            continue
        if p.is_dir() and (p / "__init__.py").exists():
            if f"{p.name}/" not in text:
                missing.append(f"{p.name}/")
            for m in sorted(p.glob("*.py")):
                if not m.name.startswith("_") and m.name not in text:
                    missing.append(f"{p.name}/{m.name}")
        elif p.suffix == ".py" and p.name not in text:
            missing.append(p.name)
    assert not missing, f"README Layout does not name: {missing}"
