from __future__ import annotations

import pytest

from safeguard.domain.errors import EvidenceError
from safeguard.extraction.tsk_image import ImageVolume


class _AttributesFailing:
    """A TSK file whose attribute list cannot be read (a damaged MFT record, say)."""

    def __iter__(self) -> object:
        raise OSError("attribute list damaged")


def test_data_runs_that_cannot_be_listed_fail_the_file_not_silently() -> None:
    volume = ImageVolume(image=None, offset=0, block_size=512)  # type: ignore[arg-type]
    with pytest.raises(EvidenceError, match=r"disk/a\.jpg: data runs cannot be listed"):
        volume.data_ranges(_AttributesFailing(), "disk/a.jpg")
