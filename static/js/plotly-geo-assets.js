// The map has no base map: an empty world topology keeps plotly.js from fetching one from its
// CDN (nothing leaves the site). Loaded before plotly.js, as a file: the pages have no inline
// script (Content-Security-Policy).
window.PlotlyGeoAssets = window.PlotlyGeoAssets || {
  topojson: { world_110m: { type: "Topology", objects: {}, arcs: [] } },
};
