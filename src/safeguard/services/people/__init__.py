"""Use cases of people and access: accounts, sign-in and sessions, case access lists."""
