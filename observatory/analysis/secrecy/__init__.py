"""Statistical secrecy of the cube's cells (step 7 of the method, DESIGN.md).

    rules.primary_secrecy(cells, …)        the frequency and dominance rules (primary secrets)
    suppression.apply_secrecy(cells, …)    primary, then complementary suppression until the
                                           audit passes
    audit.audit_secrecy(cells, …)          the attack: what the published totals give away
    rules.mask_values(cells)               what views and exports show

`relations` holds the additive equations of the cube (each parent = the sum of its children,
along the nine relations, and between départements and EPCI what the COG gives a reader)
and `system` the reader's linear system over the secret cells and its exact reduction.
Values are never dropped here: cells are only flagged (`secret`, `secret_reason`), the
engine stores values with their flag, and everything shown goes through `mask_values`.
"""

from .audit import (
    PROTECTION,
    PROTECTION_FLOOR,
    SecrecyAudit,
    SecrecyAuditFailed,
    audit_secrecy,
    protection_interval,
    structural_floor,
)
from .rules import (
    DOMINANCE,
    MIN_COMPANIES,
    PRIMARY_REASONS,
    SECRET_REASONS,
    VALUE_COLUMNS,
    is_primary,
    mask_values,
    primary_secrecy,
    withhold,
)
from .suppression import (
    MAX_ROUNDS,
    apply_secrecy,
    complementary_suppression,
    secondary_suppression,
    single_secret_groups,
)

__all__ = [
    "DOMINANCE",
    "MAX_ROUNDS",
    "MIN_COMPANIES",
    "PRIMARY_REASONS",
    "PROTECTION",
    "PROTECTION_FLOOR",
    "SECRET_REASONS",
    "VALUE_COLUMNS",
    "SecrecyAudit",
    "SecrecyAuditFailed",
    "apply_secrecy",
    "audit_secrecy",
    "complementary_suppression",
    "is_primary",
    "mask_values",
    "primary_secrecy",
    "protection_interval",
    "secondary_suppression",
    "single_secret_groups",
    "withhold",
    "structural_floor",
]
