"""Use cases of online platforms: hash, match and act on uploads, keep what was seen, re-match it when lists grow."""
