// Draws every figure embedded with {{ figure|json_script:"id" }} into the element whose
// data-figure attribute names that script id. plotly.js is served locally.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.dataset.figure);
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(JSON.parse(source.textContent));
      var config = { responsive: true, displaylogo: false, locale: "fr",
                     modeBarButtonsToRemove: ["lasso2d", "select2d"] };
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
