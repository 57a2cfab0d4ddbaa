"""Use cases of forensic examiners: cases, exhibits, triage scans, the farm, reports and exports."""
