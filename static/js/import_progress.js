// Live progress of a catalogue import (templates/trainings/curation/import_job.html). The
// `[data-import-progress-url]` box polls the job's progression.json every second and moves its
// <progress> and text; once the job is finished (done or refused) the page reloads to show the
// report. Without JavaScript the page shows the state at load and a link to refresh it.
(function () {
  "use strict";
  var PERIOD_MS = 1000;
  var MAX_FAILURES = 10;

  function watch(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var state = document.getElementById("job-state");
    var failures = 0;

    function tick() {
      fetch(box.dataset.importProgressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          bar.value = data.progress;
          bar.textContent = data.progress + "\u00a0%";
          text.textContent = data.progress + "\u00a0% — " + data.state_label;
          if (state) { state.textContent = data.state_label; }
          if (data.finished) {
            window.location.reload();
          } else {
            window.setTimeout(tick, PERIOD_MS);
          }
        })
        .catch(function () {
          // A lost connection or a restarting server: try again, more slowly, then give up.
          failures += 1;
          if (failures < MAX_FAILURES) { window.setTimeout(tick, PERIOD_MS * 2); }
        });
    }
    window.setTimeout(tick, PERIOD_MS);
  }

  document.querySelectorAll("[data-import-progress-url]").forEach(watch);
})();
