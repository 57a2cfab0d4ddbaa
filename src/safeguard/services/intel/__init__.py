"""Use cases of the intelligence unit: intake, linking, prioritisation, subjects.

- `intake`: referrals in (files, confirmed platform reports, forensic cases), idempotently.
- `linking`: the link rules (rarity-weighted, time-windowed IP) and connected networks.
- `links`: relinking the store, analyst links, unlinks and networks.
- `priorities`: the versioned rule set, assessments and overrides.
- `subjects`: ranked lists, one subject's record, merge and split.
- `packages`, `routing`, `dissemination`, `outcomes`, `dashboard`: intelligence packages
  built from subjects, routed to forces, tracked to outcomes (issue 15).
"""
