"""How work runs: hashing options, archive limits and the batch runner for each backend."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.batch.local_pool import LocalPoolRunner
from safeguard.bootstrap.stores import StoreWiring
from safeguard.hashing.contract import HashOptions

if TYPE_CHECKING:
    from safeguard.batch.contract import BatchRunner
    from safeguard.extraction.contract import ExtractionLimits


class ProcessingWiring(StoreWiring):
    """Adds the settings' hashing options, archive limits and batch runners to the stores."""

    @cached_property
    def hash_options(self) -> HashOptions:
        """Hashing options from settings (PDQ mode, quality floor, pixel limit)."""
        return HashOptions(
            pdq_mode="reference" if self.settings.pdq_mode == "reference" else "fast",
            max_image_pixels=self.settings.max_image_pixels,
            pdq_quality_floor=self.settings.pdq_quality_floor,
        )

    def batch_runner(self, workers: int | None = None) -> BatchRunner:
        """A runner for the settings' backend; `workers` None or 0 means the settings' count.

        The ``local`` backend is a process pool on this machine. The ``ray`` backend runs
        on the cluster at ``ray_address`` (a local Ray when empty); there a worker count
        of 0 (the default setting) means every CPU of the cluster.
        """
        if self.settings.batch_backend == "ray":
            from safeguard.batch.ray_cluster import RayRunner

            return RayRunner(self.settings.ray_address or None, workers or self.settings.workers)
        # Imported here: it pulls in numpy, Pillow and pdqhash, which other commands never need.
        from safeguard.services.hashing import WORKER_MODULES

        count = workers if workers else self.settings.resolved_workers
        return LocalPoolRunner(count, preload=WORKER_MODULES)

    @property
    def extraction_limits(self) -> ExtractionLimits:
        """Archive bomb and nesting guards from ``SAFEGUARD_ARCHIVE_MAX_*``."""
        from safeguard.extraction.contract import ExtractionLimits

        return ExtractionLimits(
            max_depth=self.settings.archive_max_depth,
            max_expanded_bytes=self.settings.archive_max_expanded_bytes,
            max_ratio=float(self.settings.archive_max_ratio),
        )
