"""Review services on SQLite: groups, blurred thumbnails, reveals, grades, publication."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from safeguard.bootstrap import Services, build_services
from safeguard.domain.cases import FileStatus
from safeguard.domain.errors import AccessDeniedError, InputError, NotFoundError
from safeguard.domain.hash_lists import ListKind
from safeguard.domain.review import GradingScheme
from safeguard.list_formats.registry import detect_reader
from safeguard.services.examiner.triage_model import ScanOptions
from safeguard.services.review.publication import GRADED_LIST, NOT_INDECENT_LIST
from safeguard.services.review.thumbnails import ViewSettings
from safeguard.settings import Settings
from tests.conftest import private_postgres_database
from tests.unit.services.review.review_exhibit import ReviewCase, scanned_review_case


def high_frequency_energy(data: bytes, size: tuple[int, int] | None = None) -> float:
    """Mean squared Laplacian of the picture in grey (after resizing to `size`)."""
    with Image.open(io.BytesIO(data)) as image:
        grey = image.convert("L")
        if size is not None:
            grey = grey.resize(size, Image.Resampling.LANCZOS)
        pixels = np.asarray(grey, dtype=np.float64)
    lap = (
        -4 * pixels[1:-1, 1:-1]
        + pixels[:-2, 1:-1]
        + pixels[2:, 1:-1]
        + pixels[1:-1, :-2]
        + pixels[1:-1, 2:]
    )
    return float(np.mean(lap**2))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(
        Settings(data_dir=tmp_path / "data", password_time_cost=1, password_memory_kib=1024)
    )
    yield built
    built.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """Services on SQLite and on the live PostgreSQL server (a private database)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("services")
        return
    with private_postgres_database("sg_review_flow") as url:
        built = build_services(
            Settings(
                data_dir=tmp_path / "pgdata",
                database_url=url,
                password_time_cost=1,
                password_memory_kib=1024,
            )
        )
        yield built
        built.engine.dispose()


@pytest.fixture
def review(services: Services, tmp_path: Path) -> ReviewCase:
    return scanned_review_case(services, tmp_path / "exhibit")


def _by_path(services: Services, review: ReviewCase) -> dict[str, int]:
    items = services.review_store.items(review.exhibit.exhibit_id)
    return {Path(i.path).name: i.item_no for i in items}


def test_items_and_groups_after_rotations_and_flips(services: Services, review: ReviewCase) -> None:
    items = {Path(i.path).name: i for i in services.review_store.items(review.exhibit.exhibit_id)}
    assert set(items) == {
        "a_original.jpg",
        "a_rotated.jpg",
        "a_mirrored.png",
        "a_small.jpg",
        "b_original.jpg",
        "b_copy.jpg",
        "c_alone.jpg",
        "clip.mp4",
    }
    a_group = {
        items[n].group_no
        for n in ("a_original.jpg", "a_rotated.jpg", "a_mirrored.png", "a_small.jpg")
    }
    assert len(a_group) == 1
    assert None not in a_group
    assert items["b_original.jpg"].group_no == items["b_copy.jpg"].group_no is not None
    assert items["b_original.jpg"].group_no not in a_group
    assert items["c_alone.jpg"].group_no is None
    assert items["clip.mp4"].is_video
    first = min(a_group)  # type: ignore[type-var]
    members = services.review_store.group_members(review.exhibit.exhibit_id, first)  # type: ignore[arg-type]
    assert next(m.group_distance for m in members) == 0
    assert all(m.group_distance is not None and m.group_distance <= 31 for m in members)


def test_thumbnails_are_blurred_and_reveals_are_one_time_and_audited(
    services: Services, review: ReviewCase, tmp_path: Path
) -> None:
    numbers = _by_path(services, review)
    original = (tmp_path / "exhibit" / "c_alone.jpg").read_bytes()
    thumb = services.review.thumbnail(review.exhibit, numbers["c_alone.jpg"], ViewSettings())
    with Image.open(io.BytesIO(thumb)) as image:
        size = image.size
        assert image.mode == "L"  # greyscale by default
    sharp = high_frequency_energy(original, size)
    assert high_frequency_energy(thumb) < 0.05 * sharp
    # Even a request for no blur at all is clamped to the minimum.
    weakest = services.review.thumbnail(
        review.exhibit, numbers["c_alone.jpg"], ViewSettings(blur=0, greyscale=False)
    )
    assert high_frequency_energy(weakest) < 0.1 * sharp
    video = services.review.thumbnail(review.exhibit, numbers["clip.mp4"], ViewSettings())
    assert video.startswith(b"\xff\xd8")
    ticket = services.review.reveal(
        review.case, review.exhibit, numbers["c_alone.jpg"], review.examiner
    )
    with pytest.raises(NotFoundError):
        services.review.revealed(review.exhibit, numbers["c_alone.jpg"], review.second, ticket)
    with pytest.raises(NotFoundError):
        services.review.revealed(review.exhibit, numbers["a_small.jpg"], review.examiner, ticket)
    shown = services.review.revealed(
        review.exhibit, numbers["c_alone.jpg"], review.examiner, ticket
    )
    with Image.open(io.BytesIO(shown)) as image:
        shown_size = image.size
    assert high_frequency_energy(shown) > 0.5 * high_frequency_energy(original, shown_size)
    with pytest.raises(NotFoundError):  # one time only
        services.review.revealed(review.exhibit, numbers["c_alone.jpg"], review.examiner, ticket)
    events = [
        e for e in services.case_service.audit_log(review.case) if e.action == "review.revealed"
    ]
    assert [(e.actor, e.detail["item"]) for e in events] == [
        ("user:exa", str(numbers["c_alone.jpg"]))
    ]


def test_grading_keys_groups_history_and_schemes(
    services: Services, review: ReviewCase, tmp_path: Path
) -> None:
    numbers = _by_path(services, review)
    exhibit = review.exhibit
    a_group = services.review_store.item(exhibit.exhibit_id, numbers["a_rotated.jpg"]).group_no
    assert a_group is not None
    graded = services.review.grade(review.case, exhibit, [], "1", review.examiner, groups=[a_group])
    assert len(graded) == 4
    assert {g.code for g in graded} == {"A"}
    services.review.grade(review.case, exhibit, [numbers["a_small.jpg"]], "2", review.second)
    history = services.review.history(exhibit, numbers["a_small.jpg"])
    assert [(g.code, g.examiner) for g in history] == [("A", "exa"), ("B", "exb")]
    with pytest.raises(InputError):
        services.review.grade(review.case, exhibit, [1], "9", review.examiner)
    with pytest.raises(NotFoundError):
        services.review.grade(review.case, exhibit, [999], "1", review.examiner)
    services.review.set_scheme(review.case, GradingScheme.PROJECT_VIC, "user:exa")
    vic = services.review.grade(
        review.case, exhibit, [numbers["c_alone.jpg"]], "0", review.examiner
    )
    assert vic[0].option.label == "Non-pertinent"
    counts = services.review.grade_counts(review.case)
    assert counts["Category A (Sentencing Council)"] == 3
    assert counts["Category B (Sentencing Council)"] == 1
    report = services.case_report_service.build(review.case.number)
    assert report.grade_counts["Category A (Sentencing Council)"] == 3
    # The VICS case export carries the examiners' grades as categories.
    exported = services.case_report_service.write(
        review.case.number, "vics", tmp_path / "case.json"
    )
    with detect_reader(exported).read(exported) as parsed:
        by_name = {Path(e.file_name or "").name: e.category.code for e in parsed.entries}
    assert by_name["a_original.jpg"] == "A"
    assert by_name["a_small.jpg"] == "B"


def test_publication_needs_a_second_examiner_and_feeds_the_next_scan(
    any_services: Services, tmp_path: Path
) -> None:
    services = any_services
    review = scanned_review_case(services, tmp_path / "exhibit")
    numbers = _by_path(services, review)
    exhibit = review.exhibit
    b_group = services.review_store.item(exhibit.exhibit_id, numbers["b_copy.jpg"]).group_no
    services.review.grade(review.case, exhibit, [], "2", review.examiner, groups=[b_group or 0])
    services.review.grade(review.case, exhibit, [numbers["c_alone.jpg"]], "4", review.examiner)
    services.review.grade(review.case, exhibit, [numbers["clip.mp4"]], "5", review.examiner)
    publication = services.review_publication.request(review.case, review.examiner)
    with pytest.raises(AccessDeniedError):
        services.review_publication.confirm(
            review.case, publication.publication_id, review.examiner
        )
    done = services.review_publication.confirm(
        review.case, publication.publication_id, review.second
    )
    assert done.list_versions == f"{GRADED_LIST}=1, {NOT_INDECENT_LIST}=1"
    assert done.entries == 3
    bad = list(services.hash_list_store.iter_entries(GRADED_LIST))
    assert {e.category.code for e in bad} == {"B"}
    assert all(
        "graded B by exa" in (e.provenance.notes or "")
        and "confirmed by exb" in (e.provenance.notes or "")
        for e in bad
    )
    assert all(e.provenance.source_record_id == "case OP-R" for e in bad)
    assert services.hash_list_store.get_list(NOT_INDECENT_LIST).kind is ListKind.KNOWN_GOOD
    # A second exhibit holding one of the graded pictures, scanned afterwards.
    second = tmp_path / "second"
    second.mkdir()
    (second / "found.jpg").write_bytes((tmp_path / "exhibit" / "b_original.jpg").read_bytes())
    (second / "benign.jpg").write_bytes((tmp_path / "exhibit" / "c_alone.jpg").read_bytes())
    services.case_service.new_case("OP-S", "exb")
    services.triage_service.scan(
        second, "OP-S", options=ScanOptions(workers=1, hash_options=services.hash_options)
    )
    results = {
        Path(r.path).name: r
        for r in services.case_service.store.results(
            services.case_service.exhibit(services.case_service.find("OP-S"), "second").exhibit_id
        )
    }
    assert results["found.jpg"].status is FileStatus.KNOWN_BAD
    assert results["found.jpg"].category.code == "B"
    assert results["benign.jpg"].status is FileStatus.KNOWN_GOOD
    # The matching service (API uploads and hashes) sees it too.
    sha256 = results["found.jpg"].sha256
    assert sha256 is not None
    served = services.upload_matching.match_hashes({"sha256": sha256})
    assert served.matches
    assert any(m.category.code == "B" and m.list_name == GRADED_LIST for m in served.matches)
    # A second publication is a new version.
    services.review.grade(review.case, exhibit, [numbers["c_alone.jpg"]], "3", review.examiner)
    again = services.review_publication.request(review.case, review.second)
    redone = services.review_publication.confirm(review.case, again.publication_id, review.examiner)
    assert f"{GRADED_LIST}=2" in redone.list_versions
    with pytest.raises(InputError):
        services.review_publication.confirm(review.case, again.publication_id, review.examiner)


def test_preparing_again_keeps_numbers_and_grades(
    services: Services, review: ReviewCase, tmp_path: Path
) -> None:
    before = _by_path(services, review)
    services.review.grade(
        review.case, review.exhibit, [before["c_alone.jpg"]], "3", review.examiner
    )
    # Different bytes, still a decodable picture (bytes after the JPEG end marker are
    # ignored); a picture that cannot be decoded is an error, not an item to review.
    (tmp_path / "exhibit" / "0_new.jpg").write_bytes(
        (tmp_path / "exhibit" / "b_copy.jpg").read_bytes() + b"0123456789"
    )
    # A completed exhibit that changed is rescanned only when asked (issue 12, item 6).
    services.triage_service.scan(
        tmp_path / "exhibit",
        "OP-R",
        options=ScanOptions(workers=1, hash_options=services.hash_options, rescan_changed=True),
    )
    services.review_preparation.prepare(review.case, review.exhibit, "user:exa")
    after = _by_path(services, review)
    assert {name: after[name] for name in before} == before
    assert after["0_new.jpg"] == len(before) + 1
    grades = services.review_store.current_grades(review.exhibit.exhibit_id)
    assert grades[after["c_alone.jpg"]].code == "C"
