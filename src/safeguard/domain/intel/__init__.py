"""Vocabulary of intelligence work: referrals, subjects, identifiers, links and priorities.

Standard library only. Modules:

- `grading`: the 3x5x2 grading of a referral (source, intelligence, handling code).
- `identifiers`: typed identifiers with their normalisation (phone numbers arrive already
  in E.164: parsing national formats needs a library, which lives in `intel_intake`).
- `referrals`: a referral, the files it carries and their list matches.
- `subjects`: a person of interest and what an analyst recorded about them.
- `links`: links between subjects with their evidence and provenance; merges.
- `priority`: bands, factor contributions, assessments and overrides.
"""
