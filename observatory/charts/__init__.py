"""Plotly figure builders: each takes a DataFrame and returns a `plotly.graph_objects.Figure`.
Views only pass the figure on, embedded as JSON (see `common.figure_json`)."""
