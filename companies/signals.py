"""Signals the higher apps listen to, so that `companies` never imports them.

`field_data_changed` is sent after the job positions the grid counts have changed (an import,
a submitted diagnostic, a company verified or no longer verified): the observatory answers it
by scheduling a debounced recomputation.
"""

from django.dispatch import Signal

# Sent with `source` (str) and `positions` (int, how many were written or changed).
field_data_changed = Signal()
