"""Intelligence use cases: subjects and referrals (core), packages, routing, outcomes."""
