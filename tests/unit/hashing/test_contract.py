from __future__ import annotations

import pickle

import pytest

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.hashing.contract import DEFAULT_ALGORITHMS, HashOptions, parse_algorithms


def test_defaults() -> None:
    options = HashOptions()
    assert options.algorithms == DEFAULT_ALGORITHMS
    assert options.cryptographic == (HashAlgorithm.MD5, HashAlgorithm.SHA1, HashAlgorithm.SHA256)
    assert options.wants_pdq
    assert options.pdq_mode == "fast"
    assert options.pdq_quality_floor == 50


def test_options_pickle_for_worker_processes() -> None:
    options = HashOptions(pdq_mode="reference", dihedral=True)
    assert pickle.loads(pickle.dumps(options)) == options


@pytest.mark.parametrize(
    "changes",
    [
        {"algorithms": frozenset({HashAlgorithm.PHOTODNA})},
        {"pdq_mode": "quick"},
        {"max_image_pixels": 0},
        {"chunk_size": 0},
        {"pdq_quality_floor": 101},
    ],
)
def test_invalid_options_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        HashOptions(**changes)  # type: ignore[arg-type]


def test_parse_algorithms() -> None:
    assert parse_algorithms(" MD5, pdq ,") == {HashAlgorithm.MD5, HashAlgorithm.PDQ}
    for bad in ("", "md5,crc32", "photodna"):
        with pytest.raises(ConfigurationError):
            parse_algorithms(bad)
