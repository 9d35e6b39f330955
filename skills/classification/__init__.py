"""Classification of ROME 4.0 items into the five task categories (DESIGN.md, step 1).

`classify_items(frame)` is pure pandas: it takes items (code, kind, label) and returns, for
each, its shares of RC, RM, NRA, NRI and NRM and the rule of the lexicon that decided them.
The rules are data, in `lexicon.py` (savoir-faire) and `contexts.py` (work contexts).
"""

from .classify import classify_items, classify_label, normalise
from .describe import describe_rule

__all__ = ["classify_items", "classify_label", "describe_rule", "normalise"]
