"""One hierarchy for every error Safeguard raises on purpose.

SafeguardError
├── InputError                 something handed to us is unusable; the job goes on without it
│   ├── InvalidDigestError     a hash value of the wrong length or alphabet
│   ├── EmptyFileError         zero bytes
│   ├── UnreadableFileError    the operating system refused or failed to read
│   ├── UnsupportedMediaError  content we cannot decode (not an error for plain hashing)
│   ├── CorruptMediaError      truncated or damaged content
│   └── MediaTooLargeError     pixel count or expanded size beyond the configured limit
├── ListFormatError            a hash list that cannot be read (names file, record, reason)
├── EvidenceError              an exhibit or a container inside it cannot be read
├── StorageError               the store failed or refused
│   └── NotFoundError          no such list, case, key, ...
├── AccessDeniedError          authenticated but not allowed
└── ConfigurationError         settings that cannot work
"""

from __future__ import annotations


class SafeguardError(Exception):
    """Base of every error Safeguard raises deliberately."""


class InputError(SafeguardError):
    """An input item is unusable; callers record it and carry on with the others."""


class InvalidDigestError(InputError):
    """A digest value does not fit its algorithm (length, alphabet)."""


class EmptyFileError(InputError):
    """The file has no content."""


class UnreadableFileError(InputError):
    """The file could not be read (permissions, I/O error, vanished)."""


class UnsupportedMediaError(InputError):
    """The content is not in a format that can be decoded."""


class CorruptMediaError(InputError):
    """The content is truncated or damaged."""


class MediaTooLargeError(InputError):
    """The content would expand beyond a configured limit (decompression bomb guard)."""


class DecodeTimeoutError(InputError):
    """Decoding the content took longer than the service allows; it was stopped."""


class OverloadedError(SafeguardError):
    """Too much work is in progress to take this request now; the caller may retry later.

    Attributes:
        retry_after: seconds after which a retry is reasonable.
    """

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ListFormatError(SafeguardError):
    """A hash list could not be parsed.

    Attributes:
        source: file name or other label of the list.
        record: 1-based line or record number, or None when the whole file is at fault.
        reason: what is wrong, in words a person can act on.
    """

    def __init__(self, source: str, record: int | None, reason: str) -> None:
        self.source = source
        self.record = record
        self.reason = reason
        where = f"{source}:{record}" if record is not None else source
        super().__init__(f"{where}: {reason}")


class EvidenceError(SafeguardError):
    """An exhibit, or a container inside it, could not be read."""


class MissingExtraError(UnsupportedMediaError, EvidenceError):
    """Reading this content needs an optional extra that is not installed (names the extra).

    Both a media error (a file that cannot be decoded here) and an evidence error (a
    container that cannot be opened here), so every caller records it on the item and
    carries on.
    """


class StorageError(SafeguardError):
    """The store failed or refused an operation."""


class NotFoundError(StorageError):
    """The named object does not exist."""


class AccessDeniedError(SafeguardError):
    """The caller is known but lacks the permission for this operation."""


class ConfigurationError(SafeguardError):
    """Settings that cannot work together or cannot be parsed."""
