"""Composition root: builds the services from settings, naming the concrete adapters.

Interfaces call `build_services(settings)` and use what it returns; nothing else in the
package chooses an adapter. `Services` is put together from one part per area, each a
class of cached properties in its own module (each part builds on the ones it uses):

- `stores`: settings, the engine and every SQL store (`StoreWiring`, the base);
- `processing`: hashing options, archive limits, the batch runner per backend;
- `matching`: hash lists, matching and the matching service (web API);
- `cases`: cases, triage scans and the triage farm (`run_farm_job`);
- `people`: passwords, accounts, sign-in and case access;
- `review`: examiner review, publication and case reports;
- `intelligence`: the intelligence core and intelligence packages.

A feature adds a cached property for its service to the part for its area. Callers import
from `safeguard.bootstrap` only, never from a part (an import contract checks this).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from safeguard.bootstrap.cases import run_farm_job
from safeguard.bootstrap.intelligence import IntelligenceWiring
from safeguard.bootstrap.people import PeopleWiring
from safeguard.bootstrap.review import ReviewWiring
from safeguard.bootstrap.stores import store_status
from safeguard.settings import Settings
from safeguard.storage.store_states import SchemaState, StoreAccess, StoreStatus

__all__ = [
    "SchemaState",
    "Services",
    "StoreAccess",
    "StoreStatus",
    "build_services",
    "run_farm_job",
    "store_status",
]

if TYPE_CHECKING:
    from safeguard.services.demo.tour import DemoTour


class Services(PeopleWiring, ReviewWiring, IntelligenceWiring):
    """Lazily built services for one settings object; cheap to create, build on first use.

    Its fields (`settings`, `access`, `one_command`) come from `StoreWiring`.
    """

    @cached_property
    def demo_tour(self) -> DemoTour:
        """The README's main job: the whole flow on generated benign data."""
        from safeguard.services.demo.tour import DemoTour

        workers = self.settings.resolved_workers
        return DemoTour(
            lists=self.list_service,
            matcher=self.match_service,
            cases=self.case_service,
            triage=self.triage_service,
            reports=self.case_report_service,
            hash_options=self.hash_options,
            runner=self.batch_runner(workers),
            workers=workers,
        )


def build_services(
    settings: Settings, access: StoreAccess = StoreAccess.CREATE, *, one_command: bool = False
) -> Services:
    """Wire the services for `settings`; nothing touches disk or network until used.

    Args:
        settings: the configuration.
        access: what the services may do to the store: ``CREATE`` (library default) creates
            and migrates as needed; the CLI passes ``WRITE`` or ``READ`` (see
            `store_access`).
        one_command: the services serve one command and exit (no connection pool).
    """
    return Services(settings, access, one_command)
