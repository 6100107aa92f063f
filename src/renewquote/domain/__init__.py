"""Pure business rules: money, eligibility, grouping, pricing, promotions, the quote lifecycle.

Nothing here imports a framework or touches storage; every rule takes what it needs, `today`
included, and returns values or raises `RuleViolation`.
"""
