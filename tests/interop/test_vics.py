"""VICS JSON in the shapes public VICS writers produce, in and out of Safeguard.

The shapes follow the field names and habits of the public writers and readers listed in the
team's research notes (C4All's VICS.cpp for UK cases, GLEAPP and IPED for hash sets): several
cases in one file each numbering its media from 1, MediaID 0 on every record, UK timestamps
with milliseconds and an offset followed by ``Z``, booleans as strings, a ``FilePath`` that
already ends with the file name. The digests are of generated stand-ins.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.interop.conftest import cli, counts_of, exported, imported, matched

UK_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Cases"
SET_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
)


def md5(seed: int) -> str:
    return hashlib.md5(f"stand-in {seed}".encode()).hexdigest().upper()


def sha1(seed: int) -> str:
    return hashlib.sha1(f"stand-in {seed}".encode()).hexdigest().upper()


def media(media_id: int, seed: int, stamp: str) -> dict[str, object]:
    return {
        "MediaID": media_id,
        "Category": 1,
        "MD5": md5(seed),
        "SHA1": sha1(seed),
        "MediaSize": 1000 + seed,
        "DateUpdated": stamp,
        "VictimIdentified": "false",
        "MediaFiles": [
            {
                "MD5": md5(seed),
                "FileName": f"img{seed}.jpg",
                "FilePath": f"Partition 1\\Users\\examiner\\img{seed}.jpg",  # name included
                "Created": stamp,
            }
        ],
    }


def two_uk_cases() -> dict[str, object]:
    stamps = ["2023-06-07T10:11:12.123+01:00Z", "2023-06-07T10:11:12.1234567Z", "07/06/2023"]
    cases = []
    for case in range(2):
        cases.append(
            {
                "CaseID": f"{{0000000{case}-0000-0000-0000-000000000000}}",
                "CaseNumber": f"OP-STANDIN-{case}",
                "ContactOrganization": "Test Unit",
                "Media": [media(i + 1, case * 10 + i, stamps[i]) for i in range(3)],
            }
        )
    return {"@odata.context": UK_CONTEXT, "value": cases}


def test_repeated_media_ids_and_odd_timestamps_keep_every_hash(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(two_uk_cases()), encoding="utf-8")
    record = imported(path, "uk-cases")  # strict: the UK timestamps must not refuse the file
    counts = counts_of(record)
    assert (counts["read"], counts["stored"], counts["skipped"], counts["merged"]) == (6, 6, 0, 0)
    # The ambiguous day/month stamp is kept as text, counted, never a reason to drop a hash.
    assert counts["notes"] == {"DateUpdated not readable, kept as text in the notes": 2}

    zero_ids = {
        "@odata.context": SET_CONTEXT,
        "value": [
            dict(media(0, seed, "2023-06-07T00:00:00Z"), MediaID=0) for seed in range(40, 44)
        ],
    }
    zeros = tmp_path / "zeros.json"
    zeros.write_text(json.dumps(zero_ids), encoding="utf-8")
    assert counts_of(imported(zeros, "zeros"))["stored"] == 4

    queries = tmp_path / "case0.md5"
    queries.write_text("".join(f"{md5(seed)}\n" for seed in (0, 1, 2, 10, 40)), encoding="utf-8")
    answers = matched(queries)
    assert [a["verdict"] for a in answers] == ["known-bad"] * 5
    first = answers[0]["matches"][0]  # type: ignore[index]
    assert first["category"]["code"] == "1"
    assert first["provenance"]["source_record_id"] == "1"


def test_vics_export_reads_right_in_other_readers(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(two_uk_cases()), encoding="utf-8")
    imported(path, "uk-cases")
    pdq_only = tmp_path / "pdq.txt"
    pdq_only.write_text(f"pdq {'f0' * 16}{'0f' * 16}\n", encoding="utf-8")
    imported(pdq_only, "pdq-only")

    export = tmp_path / "export.json"
    exported("uk-cases", export, "vics")
    document = json.loads(export.read_text(encoding="utf-8"))
    records = document["value"]
    assert len(records) == 6
    for record in records:
        assert record["VictimIdentified"] is False  # a JSON boolean, not "false"
        (instance,) = record["MediaFiles"]
        assert not instance["FilePath"].endswith(instance["FileName"])
        assert "MD5" in record
        assert "MediaID" in record
    again = counts_of(imported(export, "again"))
    assert (again["read"], again["stored"]) == (6, 6)
    # Same entries, categories and provenance in and out: the two lists export identically.
    exported("uk-cases", tmp_path / "in.csv", "csv")
    exported("again", tmp_path / "out.csv", "csv")
    assert (tmp_path / "in.csv").read_text() == (tmp_path / "out.csv").read_text()

    pdq_export = tmp_path / "pdq.json"
    exported("pdq-only", pdq_export, "vics")
    (record,) = json.loads(pdq_export.read_text(encoding="utf-8"))["value"]
    # Readers recognise a Media record by its MD5 and MediaID keys: both are there.
    assert record["MD5"] is None
    assert isinstance(record["MediaID"], int)
    assert record["AlternativeHashes"][0]["HashName"] == "PDQ"
    assert counts_of(imported(pdq_export, "pdq-again"))["stored"] == 1


def test_match_export_keeps_the_project_vic_category(tmp_path: Path) -> None:
    photo = tmp_path / "evidence" / "found.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"stand-in bytes for a listed file\n")
    digest = hashlib.md5(photo.read_bytes()).hexdigest()
    # An uncategorised list imported first, then a Project VIC list: both hold the file.
    (tmp_path / "plain.md5").write_text(f"{digest}  found.jpg\n", encoding="utf-8")
    imported(tmp_path / "plain.md5", "a-uncategorised")
    vic = {"@odata.context": SET_CONTEXT, "value": [{"MediaID": 9, "Category": 2, "MD5": digest}]}
    (tmp_path / "vic.json").write_text(json.dumps(vic), encoding="utf-8")
    imported(tmp_path / "vic.json", "b-vic")
    out = tmp_path / "results.json"
    code, stdout, stderr = cli(
        "match", str(photo), "--workers", "1", "--export", str(out), "--export-format", "vics"
    )
    assert code == 0, stdout + stderr
    (record,) = json.loads(out.read_text(encoding="utf-8"))["value"]
    assert record["Category"] == 2
