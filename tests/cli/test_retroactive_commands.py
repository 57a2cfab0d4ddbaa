"""`safeguard lists retroactive show|run|resume|cancel`, and `lists import --no-wait`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguard.bootstrap import Services, build_services
from safeguard.domain.retroactive_jobs import RetroactiveJob, RetroactiveState
from safeguard.settings import load_settings
from safeguard.storage.sql.retroactive_jobs import SqlRetroactiveJobStore
from tests.cli.test_lists_commands import invoke, write_csv
from tests.contracts.hash_list_store_contract import digest_of


@pytest.fixture
def services(isolated_env: Path) -> Services:
    return build_services(load_settings())


def shown_jobs(*args: str) -> list[dict[str, object]]:
    code, output = invoke("lists", "retroactive", "show", "--json", *args)
    assert code == 0, output
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_import_waits_for_its_job_unless_told_not_to(tmp_path: Path, services: Services) -> None:
    for seed in (3, 4):
        services.upload_matching.match_hashes({"md5": digest_of("md5", seed)})
    csv = write_csv(tmp_path / "later.csv", range(2, 4))
    code, output = invoke("lists", "import", str(csv), "--name", "now", "--action", "report")
    assert code == 0, output
    assert "1 past uploads now match" in output
    [job] = shown_jobs("now")
    assert (job["state"], job["hits"], job["entries"]) == ("done", 1, None)
    csv = write_csv(tmp_path / "more.csv", range(4, 6))
    code, output = invoke(
        "lists", "import", str(csv), "--name", "later", "--action", "report", "--no-wait"
    )
    assert code == 0, output
    assert "pending" in output
    [job] = shown_jobs("later")
    assert job["state"] == "pending"
    code, output = invoke("lists", "retroactive", "run")
    assert code == 0, output
    assert f"Retroactive job {job['job_id']} of 'later': done" in output
    assert "1 acted on" in output
    assert [j["state"] for j in shown_jobs()] == ["done", "done"]
    code, output = invoke("lists", "retroactive", "run")
    assert "No retroactive job was waiting." in output
    code, output = invoke("lists", "retroactive", "show")
    assert code == 0
    assert "later" in output


def test_held_jobs_are_resumed_or_cancelled_and_audited(services: Services) -> None:
    store = SqlRetroactiveJobStore(services.engine)
    held = [
        store.add_job(
            RetroactiveJob(
                "gone", datetime.now(UTC), "t", state=RetroactiveState.HELD, note="too many"
            )
        )
        for _ in range(2)
    ]
    code, output = invoke("lists", "retroactive", "resume", str(held[0].job_id), "--no-wait")
    assert code == 0, output
    assert "pending" in output
    code, output = invoke("lists", "retroactive", "resume", str(held[0].job_id))
    assert code == 2
    assert "not held" in output
    code, output = invoke("lists", "retroactive", "cancel", str(held[1].job_id))
    assert code == 0, output
    assert "cancelled" in output
    code, output = invoke("lists", "retroactive", "resume", str(held[1].job_id), "--limit", "5")
    assert code == 2
    code, output = invoke("lists", "retroactive", "run")
    assert "no list 'gone'" in output  # the resumed job's list does not exist
    audit = [e for e in services.service_store.list_audit(10) if "retroactive" in e.action]
    assert [e.action for e in audit] == ["list.retroactive_cancelled", "list.retroactive_resumed"]
    assert all(e.actor.startswith("cli:") for e in audit)
    code, output = invoke("lists", "retroactive", "cancel", "999")
    assert code == 2
    assert "no retroactive job 999" in output
