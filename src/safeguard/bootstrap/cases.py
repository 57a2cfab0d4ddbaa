"""Cases and forensic triage: the case service, exhibit scans and the triage farm.

`run_farm_job` is the farm's task: a node runs it with its own services built from the
same settings (pickled with them by the batch backend).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.bootstrap.processing import ProcessingWiring
from safeguard.settings import Settings

if TYPE_CHECKING:
    from safeguard.domain.farm import ScanJob
    from safeguard.services.examiner.cases import CaseService
    from safeguard.services.examiner.triage import TriageService
    from safeguard.services.examiner.triage_farm import FarmJobResult, TriageFarm


class CaseWiring(ProcessingWiring):
    """Adds the case service, triage scans and the triage farm to the stores."""

    @cached_property
    def case_service(self) -> CaseService:
        """Opening and finding cases; the audit log."""
        from safeguard.services.examiner.cases import CaseService

        return CaseService(self.case_store)

    @cached_property
    def triage_service(self) -> TriageService:
        """Forensic triage: scans exhibits into cases, resumable."""
        from safeguard.extraction.registry import open_exhibit
        from safeguard.services.examiner.triage import TriageService
        from safeguard.services.matching import MatchService

        # Lists are fixed for a scan run (their versions are recorded when it starts), so the
        # scan's matcher skips the per-file revision check the shared one makes.
        matcher = MatchService(
            self.hash_list_store,
            index_dir=self.settings.data_dir / "index",
            default_threshold=self.settings.pdq_threshold,
            quality_floor=self.settings.pdq_quality_floor,
            auto_refresh=False,
        )
        return TriageService(
            self.case_service,
            open_exhibit=open_exhibit,
            match=matcher.match_file_hashes,
            lists=self.hash_list_store.all_lists,
            runner_factory=self.batch_runner,
            prepare_matcher=matcher.refresh,
            # One store query per algorithm for a whole commit batch, not three per file.
            match_many=matcher.match_many,
        )

    def triage_farm(self, workers: int | None = None, worker_name: str = "") -> TriageFarm:
        """Queue exhibits and work through the queue on the settings' batch backend.

        Each task scans one exhibit on whichever node the backend picks, with that node's
        own services built from these settings (same case database, local process pool).
        """
        import functools
        import os
        import socket

        from safeguard.services.examiner.triage_farm import TriageFarm

        return TriageFarm(
            self.scan_queue,
            self.case_store,
            self.batch_runner(workers),
            functools.partial(run_farm_job, self.settings),
            worker_name or f"{socket.gethostname()}:{os.getpid()}",
        )


def run_farm_job(settings: Settings, job: ScanJob) -> FarmJobResult:
    """One farm task: scan a queued exhibit into its case on whichever node runs this.

    The node builds its own services from `settings` (the shared case database) and scans
    with its own process pool; the scan resumes from whatever an earlier attempt committed.
    """
    import socket
    import time
    from pathlib import Path

    # Imported here: the package imports this module to put `Services` together.
    from safeguard.bootstrap import build_services
    from safeguard.services.examiner.triage_farm import FarmJobResult

    started = time.monotonic()
    local = settings.with_overrides(batch_backend="local")
    services = build_services(local)
    try:
        outcome = services.triage_service.scan(
            Path(job.exhibit_path),
            job.case_number,
            exhibit_reference=job.exhibit_reference,
            examiner=job.submitted_by,
        )
    finally:
        services.engine.dispose()
    return FarmJobResult(
        job.job_id,
        outcome.recorded,
        outcome.skipped,
        {status.value: count for status, count in outcome.counts.items()},
        socket.gethostname(),
        time.monotonic() - started,
    )
