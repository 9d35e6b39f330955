// Draws every figure embedded with {{ figure|json_script:"id" }} into the element whose
// data-figure attribute names that script id. plotly.js is served locally.
(function () {
  "use strict";
  // A figure whose layout names a download file (layout.meta.download) gets a button after
  // the chart that saves it as PNG with plotly's own, offline, downloadImage. The button sits
  // outside the chart: the chart is role="img", which may hold no control (axe:
  // nested-interactive), so plotly's toolbar stays hidden.
  function downloadButton(node, filename) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-secondary chart-download";
    button.textContent = "Télécharger le graphique (PNG)";
    button.addEventListener("click", function () {
      window.Plotly.downloadImage(node, { format: "png", filename: filename, scale: 2 });
    });
    node.insertAdjacentElement("afterend", button);
  }
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.dataset.figure);
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(JSON.parse(source.textContent));
      var config = { responsive: true, displayModeBar: false, locale: "fr" };
      var download = figure.layout && figure.layout.meta && figure.layout.meta.download;
      window.Plotly.newPlot(node, figure.data, figure.layout, config).then(function () {
        node.dataset.drawn = "true";
        if (download) { downloadButton(node, download); }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
