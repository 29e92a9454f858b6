"""The backend interface: the pipeline runs the same on any backend. The in-memory backend proves
it — the demo read once from its .xlsx, then synced from memory, gives the same flags and tabs."""
from __future__ import annotations

import pytest

from conftest import AS_OF
from campaignwatch.backends import NotSupported, backend_for, parse_source
from campaignwatch.config import defaults
from campaignwatch.history import History
from campaignwatch.pipeline import check_source
from campaignwatch.read.workbook import read_workbook
from campaignwatch.sync import sync_source
from campaignwatch.workbook.template import write_template


def test_a_source_is_parsed_once_and_its_backend_chosen_from_that():
    assert [parse_source(s).kind for s in ("a.xlsx", "gsheet:AbC", "https://docs.google.com/spreadsheets/d/AbC/edit",
                                           "memory:x")] == ["file", "gsheet", "gsheet", "memory"]
    assert [backend_for(s).name for s in ("a.xlsx", "gsheet:AbC", "memory:x")] == ["xlsx", "google", "memory"]
    assert parse_source("https://docs.google.com/spreadsheets/d/AbC/edit").key == "gsheet:AbC"


def test_the_pipeline_runs_on_the_in_memory_backend_as_on_xlsx(tmp_path):
    path = write_template(tmp_path / "demo.xlsx", demo=True, as_of=AS_OF)
    cfg = defaults()
    on_disk = sync_source(path, cfg, AS_OF, History(tmp_path / "a.sqlite"), dry_run=True)
    memory = backend_for("memory:demo")
    source = memory.put("demo", read_workbook(path))
    in_memory = sync_source(source.text, cfg, AS_OF, History(tmp_path / "b.sqlite"))
    assert in_memory.status == "ok" and in_memory.written == "memory:demo"
    key = lambda r: sorted((f.code, f.campaign_id, f.key, f.amount) for f in r.flags)  # noqa: E731
    assert key(in_memory) == key(on_disk) and len(in_memory.flags) == 28
    assert [t.key for t in memory.written["demo"]] == ["summary", "flags", "budget", "kpi", "validation",
                                                        "scorecard", "runlog"]
    checked = check_source("memory:demo", cfg, AS_OF)
    assert checked.status == "ok" and sorted(checked.tables) == sorted(on_disk.check.kept_excluded)
    assert memory.clean(source, cfg) is not None and "demo" not in memory.written
    assert check_source("memory:nothing", cfg, AS_OF).error.code == "missing"
    with pytest.raises(NotSupported):                     # it keeps no backups
        memory.restore(source, cfg)
