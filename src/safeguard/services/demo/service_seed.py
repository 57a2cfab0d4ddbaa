"""Seed the matching service with benign demo data, so one ``curl`` shows a match.

The "listed" pictures are generated stand-ins (`demo_data.synthetic_photo`), never real
listed content. The sample to send is a re-saved copy of one of them, so the match is
perceptual (a small distance), as it would be for a re-encoded upload.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import NotFoundError
from safeguard.domain.hash_lists import (
    INDUSTRY,
    HashEntry,
    HashList,
    ListKind,
    Provenance,
    category_for,
)
from safeguard.domain.service import Scope
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.hash_lists.list_changes import ListAdministration
from safeguard.services.platform.api_keys import ApiKeyService
from safeguard.services.platform.upload_matching import UploadMatchingService

DEMO_LIST = "demo-stand-ins"
DEMO_SEEDS = (101, 102, 103)


@dataclass(frozen=True, slots=True)
class DemoServiceSeed:
    """What the demo needs to show a match.

    Attributes:
        token: an API key token with the ``match`` and ``reports:review`` scopes (shown once).
        sample: a JPEG to upload: a re-saved copy of a listed stand-in.
        list_name: the demo list.
    """

    token: str
    sample: Path
    list_name: str

    def curl_command(self, base_url: str = "http://127.0.0.1:8000") -> str:
        """A ``curl`` line that uploads the sample to ``/v1/match``."""
        return (
            f"curl -s -H {shlex.quote('Authorization: Bearer ' + self.token)} "
            f"-H 'Content-Type: image/jpeg' --data-binary @{shlex.quote(str(self.sample))} "
            f"{base_url}/v1/match"
        )


def seed_demo_service(
    lists: ListAdministration,
    keys: ApiKeyService,
    matching: UploadMatchingService,
    folder: Path,
) -> DemoServiceSeed:
    """Create (once) a demo list of stand-in pictures, issue a demo key, write a sample.

    Args:
        lists: list administration of the service.
        keys: the service's key issuer.
        matching: used to hash the stand-ins.
        folder: where the sample JPEG is written.
    """
    try:
        lists.get_list(DEMO_LIST)
    except NotFoundError:
        demo = HashList(
            name=DEMO_LIST,
            kind=ListKind.KNOWN_BAD,
            source="Safeguard demo (generated stand-ins)",
            version="1",
            action="block,report",
        )
        lists.create_list(demo, actor="demo")
        entries = []
        for seed in DEMO_SEEDS:
            hashes = matching.hash_upload(encode(synthetic_photo(seed, 1024, 768)))
            digests = {HashAlgorithm.PDQ: hashes.pdq or ""}
            digests.update(hashes.digests)
            entries.append(
                HashEntry(
                    entry_id=f"stand-in-{seed}",
                    digests=digests,
                    category=category_for(INDUSTRY, "A2"),
                    provenance=Provenance(source_record_id=f"demo-{seed}", series="demo"),
                )
            )
        lists.add_entries(DEMO_LIST, entries, actor="demo")
    issued = keys.create("demo", [Scope.MATCH, Scope.REPORTS_REVIEW], actor="demo")
    folder.mkdir(parents=True, exist_ok=True)
    sample = folder / "demo-upload.jpg"
    sample.write_bytes(encode(synthetic_photo(DEMO_SEEDS[0], 1024, 768), quality=60))
    return DemoServiceSeed(issued.token, sample, DEMO_LIST)
