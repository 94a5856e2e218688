"""Use-cases: create and control legs, manage accounts. Owns transactions; faces call into it."""
