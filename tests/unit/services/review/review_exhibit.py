"""A small scanned exhibit for review tests: near-duplicates (rotated, flipped, re-encoded),
distinct pictures and a short video, all benign generated stand-ins."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from safeguard.bootstrap import Services
from safeguard.domain.cases import Case, Exhibit
from safeguard.domain.people import Role, User
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.examiner.triage_model import ScanOptions
from tests.unit.services.video_clips import write_clip

PASSWORD = "correct horse battery staple"


def write_review_exhibit(folder: Path, seeds: tuple[int, ...] = (301, 302, 303)) -> Path:
    """A folder: for the first seed an original, its 90° rotation, its mirror and a smaller
    re-encode (one group of four); for the second an original and a re-encode (a group of
    two); the third alone; and a two-second video."""
    folder.mkdir(parents=True, exist_ok=True)
    first, second, third = (synthetic_photo(s, 480, 360) for s in seeds)
    (folder / "a_original.jpg").write_bytes(encode(first))
    (folder / "a_rotated.jpg").write_bytes(encode(first.transpose(Image.Transpose.ROTATE_90)))
    (folder / "a_mirrored.png").write_bytes(
        encode(first.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "PNG")
    )
    (folder / "a_small.jpg").write_bytes(encode(first.resize((240, 180)), quality=70))
    (folder / "b_original.jpg").write_bytes(encode(second))
    (folder / "b_copy.jpg").write_bytes(encode(second, quality=60))
    (folder / "c_alone.jpg").write_bytes(encode(third))
    write_clip(folder / "clip.mp4", ((304, 1.0), (305, 1.0)))
    (folder / "notes.txt").write_text("not a picture\n")
    return folder


@dataclass
class ReviewCase:
    case: Case
    exhibit: Exhibit
    examiner: User
    second: User


def scanned_review_case(services: Services, folder: Path, number: str = "OP-R") -> ReviewCase:
    """Open a case, scan the exhibit, prepare it for review; two examiners on its access list."""
    exhibit_path = write_review_exhibit(folder)
    case = services.case_service.new_case(number, "exa")
    services.triage_service.scan(
        exhibit_path, number, options=ScanOptions(workers=1, hash_options=services.hash_options)
    )
    exhibit = services.case_service.exhibit(case, exhibit_path.name)
    users = []
    for name in ("exa", "exb"):
        try:
            user = services.users.find(name)
        except Exception:
            user = services.users.create(name, PASSWORD, [Role.EXAMINER], actor="test")
        services.case_access.grant(case.case_id, name, actor="test")
        users.append(user)
    services.review_preparation.prepare(case, exhibit, "user:exa")
    return ReviewCase(case, exhibit, users[0], users[1])
