"""Signals the higher apps listen to, so that `companies` never imports them.

`field_data_changed` is sent after new job positions are stored (an import, a submitted
diagnostic): the observatory answers it by scheduling a debounced recomputation.
"""

from django.dispatch import Signal

# Sent with `source` (str) and `positions` (int, how many were written).
field_data_changed = Signal()
