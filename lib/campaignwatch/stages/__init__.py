"""Pure pipeline stages: normalise, validate (and later compute, rules)."""
