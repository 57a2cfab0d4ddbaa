"""Use cases of examiner review: prepare, show safely, grade, group, publish, exchange."""
