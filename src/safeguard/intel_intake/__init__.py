"""Referral readers: each source of referrals behind one contract, and a registry.

Callers use `detect_reader`, `reader_named` and `register_reader` (from `registry`);
`contract` defines `ReferralReader`, `ReadItem` and `Refusal`. Converters for referrals that
arrive without a file (the matching service's confirmed reports, forensic cases) live in
`platform_reports` and `forensic_cases`.
"""
