"""The company diagnostic: its services (writes), selectors (reads and look-ups), the forms
of its steps, its pages and their routes (included at /diagnostic/)."""
