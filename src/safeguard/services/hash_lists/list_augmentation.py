"""Publish augmentation hashes with a list: the list keeper's use case for held originals.

A list keeper who holds the originals of a list's entries (a national database, a
platform's own confirmed uploads) can store, beside each original's own hashes, the PDQ
hashes of its likely crops and small rotations (`safeguard.hashing.augmentation`). Every
holder of the list then finds cropped copies from the list alone, without the originals.
``docs/robustness.md`` measures the gain ("safeguard-augmented").

Each original is tied to its entry by an exact digest (SHA-256, SHA-1 or MD5) of the
file; an original that matches no entry of the list is skipped with a reason, never added
on a guess (a PDQ hash is not an identity: near pictures share it). The extra entries are
written through the list administration path, so they are audited and re-matched against
past uploads like any other change (`safeguard.services.hash_lists.list_changes`): each original's
entries by a durable retroactive job, run here to its end or left to a worker, as the caller
asks. Repeating the run replaces the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.errors import InputError
from safeguard.domain.hash_lists import HashEntry
from safeguard.domain.media import MediaKind, sniff_media_type
from safeguard.domain.retroactive_jobs import RetroactiveJob
from safeguard.hashing.image_decoding import load_rgb, open_image
from safeguard.services.examiner.robust_matching import AUGMENTATION_SEPARATOR, augmentation_entries
from safeguard.services.hash_lists.list_changes import ListChange
from safeguard.storage.hash_list_store import HashListStore

EntryWriter = Callable[[str, list[HashEntry], str, int | None], ListChange]
"""Writes entries to a list on behalf of an actor, then re-matches past uploads:
``(list name, entries, actor, retroactive batches) -> change`` (`ListAdministration.
add_entries`: batches None run the job to its end, 0 leave it all to a worker)."""

_DIGESTS: tuple[tuple[HashAlgorithm, Callable[[bytes], str]], ...] = (
    (HashAlgorithm.SHA256, lambda data: hashlib.sha256(data).hexdigest()),
    (HashAlgorithm.SHA1, lambda data: hashlib.sha1(data, usedforsecurity=False).hexdigest()),
    (HashAlgorithm.MD5, lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest()),
)


@dataclass(frozen=True, slots=True)
class AugmentationOutcome:
    """What one augmentation run did.

    Attributes:
        list_name: the list augmented.
        originals_read: pictures offered.
        originals_matched: pictures tied to an entry of the list.
        entries_written: augmentation entries written (added or replaced).
        skipped: (picture name, reason) for each picture not used.
        retroactive_hits: past uploads found to match the new entries, and acted on, before
            the call returned (the jobs' later batches act on the rest).
        retroactive_jobs: the retroactive job of each original's entries, as it stood when
            the call returned.
    """

    list_name: str
    originals_read: int
    originals_matched: int
    entries_written: int
    skipped: tuple[tuple[str, str], ...]
    retroactive_hits: int
    retroactive_jobs: tuple[RetroactiveJob, ...] = ()


class ListAugmentation:
    """Adds the augmentation hashes of held originals to a stored list."""

    def __init__(
        self, lists: HashListStore, write_entries: EntryWriter, max_image_pixels: int
    ) -> None:
        self._lists = lists
        self._write = write_entries
        self._max_pixels = max_image_pixels

    def augment(
        self,
        list_name: str,
        originals: Iterable[tuple[str, bytes]],
        actor: str,
        retroactive_batches: int | None = None,
    ) -> AugmentationOutcome:
        """Tie each original to its entry, derive its augmentation entries and store them.

        Args:
            list_name: the list holding the originals' entries.
            originals: (name shown in messages, encoded picture) for each original.
            actor: who asked, for the audit log.
            retroactive_batches: batches of past uploads each original's job re-matches
                before the next original (None: until the job ends or is held; 0: none,
                all left to a worker).

        Raises:
            NotFoundError: no list of that name.
        """
        self._lists.get_list(list_name)
        read = matched = written = hits = 0
        skipped: list[tuple[str, str]] = []
        jobs: list[RetroactiveJob] = []
        for name, data in originals:
            read += 1
            try:
                entry, pixels = self._original(list_name, data)
            except InputError as exc:
                skipped.append((name, str(exc)))
                continue
            if entry is None:
                skipped.append(
                    (name, f"no entry of list {list_name!r} has its SHA-256, SHA-1 or MD5")
                )
                continue
            entries = augmentation_entries(entry, pixels)
            if not entries:
                skipped.append((name, "every derived picture was too plain to hash"))
                continue
            change = self._write(list_name, entries, actor, retroactive_batches)
            matched += 1
            written += change.written
            hits += len(change.retroactive)
            if change.retroactive_job is not None:
                jobs.append(change.retroactive_job)
        return AugmentationOutcome(
            list_name, read, matched, written, tuple(skipped), hits, tuple(jobs)
        )

    def _original(
        self, list_name: str, data: bytes
    ) -> tuple[HashEntry | None, npt.NDArray[np.uint8]]:
        media = sniff_media_type(data[:64])
        if media.kind is not MediaKind.IMAGE:
            raise InputError(f"not a picture ({media.mime})")
        pixels = load_rgb(open_image(data, media.mime, self._max_pixels))
        for algorithm, digest in _DIGESTS:
            entry = self._entry_in(list_name, algorithm, digest(data))
            if entry is not None:
                return entry, pixels
        return None, pixels

    def _entry_in(self, list_name: str, algorithm: HashAlgorithm, value: str) -> HashEntry | None:
        for stored in self._lists.find_exact(algorithm, [value]):
            # Another augmentation entry shares the hash only by accident; tie to originals.
            if (
                stored.hash_list.name == list_name
                and AUGMENTATION_SEPARATOR not in stored.entry.entry_id
            ):
                return stored.entry
        return None
