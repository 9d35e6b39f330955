// Live progress of the runs that are pending or computing (templates/observatory/run_list.html).
// Each `[data-progress-url]` box polls its run's progression.json every 2 s and updates its
// <progress> and text; once the run is finished, the row (and the table of runs in force) is
// replaced by the server's fresh rendering. Without JavaScript the page shows the state at load.
(function () {
  "use strict";
  var PERIOD_MS = 2000;
  var MAX_FAILURES = 5;

  function replaceFrom(doc, id) {
    var fresh = doc.getElementById(id);
    var here = document.getElementById(id);
    if (fresh && here) {
      here.replaceWith(document.importNode(fresh, true));
      return true;
    }
    return false;
  }

  function reloadRow(row) {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        replaceFrom(doc, "runs-current");
        if (!replaceFrom(doc, row.id)) {
          window.location.reload();  // the row moved to another page of the history
        }
      });
  }

  function watch(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var row = box.closest("tr");
    var failures = 0;

    function tick() {
      fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          bar.value = data.progress;
          bar.textContent = data.progress + "\u00a0%";
          text.textContent = data.progress + "\u00a0% — " + (data.step || data.status_label);
          if (data.finished) {
            reloadRow(row);
          } else {
            window.setTimeout(tick, PERIOD_MS);
          }
        })
        .catch(function () {
          failures += 1;
          if (failures < MAX_FAILURES) { window.setTimeout(tick, PERIOD_MS * 2); }
        });
    }
    window.setTimeout(tick, PERIOD_MS);
  }

  document.querySelectorAll("[data-progress-url]").forEach(watch);
})();
