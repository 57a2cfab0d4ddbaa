"""import-linter contract types for the rules docs/architecture.md states and the built-in ones can't.

Registered in pyproject.toml (``contract_types``); `lint-imports` imports this module from the
repository root.

- ``stdlib_only``: the source packages import nothing outside the standard library and
  Safeguard itself (the built-in ``forbidden`` type needs every third-party name listed, so a
  package nobody thought of would slip through).
- ``imported_only_by``: modules matching shell-style patterns (``safeguard.storage.memory_*``,
  ``sqlalchemy``) are imported directly only by the allowed importers (and by each other), so
  a new adapter module is covered by its name alone.
"""

from __future__ import annotations

import sys
from fnmatch import fnmatchcase
from typing import Any

from importlinter import Contract, ContractCheck, fields, output


def _matching(modules: set[str], patterns: list[str]) -> set[str]:
    """Modules matching a pattern, or inside a package that matches one."""
    return {
        module
        for module in modules
        if any(fnmatchcase(module, p) or fnmatchcase(module, p + ".*") for p in patterns)
    }


def _lines(graph: Any, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    numbers = sorted({str(d["line_number"]) for d in details})
    return f" (l. {', '.join(numbers)})" if numbers else ""


class StdlibOnlyContract(Contract):
    """The source packages import only the standard library (and their own root package)."""

    type_name = "stdlib_only"

    source_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        """Every direct import from the sources to a non-stdlib, non-Safeguard top level."""
        sources = _matching(set(graph.modules), list(self.source_modules))  # type: ignore[call-overload]
        if not sources:
            raise ValueError(f"no module matches {self.source_modules}")
        own = {source.split(".")[0] for source in sources}
        violations = []
        for module in sorted(sources):
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                top = imported.split(".")[0]
                if top in own or top in sys.stdlib_module_names:
                    continue
                violations.append(f"{module} imports {imported}{_lines(graph, module, imported)}")
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """One line per third-party import."""
        for line in (check.metadata or {}).get("violations", []):
            output.print_error(line, bold=False)
            output.new_line()


class ImportedOnlyByContract(Contract):
    """Modules matching `protected` are imported directly only by `allowed_importers`."""

    type_name = "imported_only_by"

    protected = fields.ListField(subfield=fields.StringField())
    allowed_importers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        """Every direct import of a protected module from outside the allowed importers."""
        modules = set(graph.modules)
        protected = _matching(modules, list(self.protected))  # type: ignore[call-overload]
        allowed = _matching(modules, list(self.allowed_importers))  # type: ignore[call-overload]
        violations = []
        for module in sorted(protected):
            for importer in sorted(graph.find_modules_that_directly_import(module)):
                if importer in protected or importer in allowed:
                    continue
                violations.append(f"{importer} imports {module}{_lines(graph, importer, module)}")
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """One line per import from outside the allowed importers."""
        for line in (check.metadata or {}).get("violations", []):
            output.print_error(line, bold=False)
            output.new_line()
