"""Recognise a disk image by its first sectors, without The Sleuth Kit (no optional engine)."""

from __future__ import annotations


def looks_like_disk(head: bytes) -> bool:
    """True when `head` (1,536 bytes or more) starts with a partition table or a boot record.

    Recognised: MBR, GPT, and the FAT, exFAT, NTFS, ext2/3/4 and HFS+ boot records TSK reads.
    """
    if len(head) >= 520 and head[512:520] == b"EFI PART":
        return True
    if head[3:11] in (b"NTFS    ", b"EXFAT   "):
        return True
    if len(head) >= 1082 and head[1080:1082] == b"\x53\xef":
        return True
    if len(head) >= 1026 and head[1024:1026] in (b"H+", b"HX"):
        return True
    if len(head) < 512 or head[510:512] != b"\x55\xaa":
        return False
    if b"FAT" in head[54:62] or b"FAT32" in head[82:90]:
        return True
    entries = [head[446 + 16 * slot : 462 + 16 * slot] for slot in range(4)]
    statuses_ok = all(entry[0] in (0x00, 0x80) for entry in entries)
    return statuses_ok and any(entry[4] != 0 for entry in entries)
