// Draws every figure embedded with {{ figure|json_script:"id" }} into the element whose
// data-figure attribute names that script id. plotly.js is served locally.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.dataset.figure);
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(JSON.parse(source.textContent));
      // No toolbar: its English buttons sit inside the chart's role="img" container, which
      // assistive technologies cannot reach (axe: nested-interactive).
      var config = { responsive: true, displayModeBar: false, locale: "fr" };
      window.Plotly.newPlot(node, figure.data, figure.layout, config).then(function () {
        node.dataset.drawn = "true";
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
