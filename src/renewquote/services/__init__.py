"""Use cases: each public function owns its transaction and raises `RuleViolation` on refusal."""
