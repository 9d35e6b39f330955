// Company diagnostic: progressive enhancements. Every form works without this script (the
// server resolves what was typed and says what is wrong); the script only adds the remaining
// percentage as shares are typed, the skills blocks of the chosen job, a confirmation before
// removing a job and a single submission of the diagnostic. The suggestions under the text
// fields come from static/js/combobox.js, loaded before this file.
(function () {
  "use strict";

  // --- Skills blocks of the chosen fiche ----------------------------------------------------
  function enhanceSkillBlocks(form) {
    var fieldset = form.querySelector("[data-skill-blocks]");
    var occupationBox = form.querySelector(".diag-combobox[data-suggest-event=occupation]");
    if (!fieldset || !occupationBox) { return; }
    var list = fieldset.querySelector("[data-skill-blocks-list]");
    var name = fieldset.dataset.fieldName;
    var idPrefix = fieldset.dataset.idPrefix;
    var url = occupationBox.dataset.comboboxUrl;

    function note(text) {
      var paragraph = document.createElement("p");
      paragraph.className = "diag-note";
      paragraph.textContent = text;
      list.textContent = "";
      list.appendChild(paragraph);
    }

    function render(fiche) {
      var checked = {};
      list.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { checked[box.value] = true; });
      if (!fiche.skill_blocks.length) {
        note("Aucun bloc de compétences n'est encore chargé pour « " + fiche.label + " ».");
        return;
      }
      var options = document.createElement("div");
      options.className = "diag-options diag-block-options";
      fiche.skill_blocks.forEach(function (block, i) {
        var label = document.createElement("label");
        label.className = "diag-option";
        var box = document.createElement("input");
        box.type = "checkbox";
        box.name = name;
        box.value = String(block.id);
        box.id = idPrefix + "_" + i;
        box.checked = !!checked[box.value];
        label.htmlFor = box.id;
        var text = document.createElement("span");
        text.textContent = block.code + " — " + block.label;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" "));
        label.appendChild(text);
        options.appendChild(label);
      });
      list.textContent = "";
      list.appendChild(options);
    }

    occupationBox.addEventListener("combobox:choose", function (event) {
      var code = event.detail && event.detail.code;
      if (!code) { return; }
      fetch(url + "?code=" + encodeURIComponent(code), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (fiche) {
        if (fiche) { render(fiche); }
      }).catch(function () { /* the blocks can be chosen after saving, on the edit page */ });
    });
  }

  // --- Remaining percentage -------------------------------------------------------------
  function enhanceShares(fieldset) {
    var inputs = fieldset.querySelectorAll("input[type=number]");
    var output = fieldset.querySelector("[data-shares-remaining]");
    if (!output) { return; }

    function update() {
      var total = 0;
      inputs.forEach(function (input) {
        var value = parseInt(input.value, 10);
        if (!isNaN(value)) { total += value; }
      });
      var rest = 100 - total;
      output.textContent = "";
      output.classList.toggle("is-complete", rest === 0);
      output.classList.toggle("is-over", rest < 0);
      var parts;
      if (rest === 0) {
        parts = ["Total : ", "100 %", " — la répartition est complète."];
      } else if (rest > 0) {
        parts = ["Total : ", total + " %", " — il reste ", rest + " %", " à répartir."];
      } else {
        parts = ["Total : ", total + " %", " — ", (-rest) + " %", " de trop."];
      }
      parts.forEach(function (part, i) {
        if (i % 2 === 1) {
          var strong = document.createElement("strong");
          strong.textContent = part;
          output.appendChild(strong);
        } else {
          output.appendChild(document.createTextNode(part));
        }
      });
    }

    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
  }

  // --- Confirmation and single submission -------------------------------------------------
  function enhanceConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  }

  function enhanceSubmitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) { event.preventDefault(); return; }
      form.dataset.submitting = "1";
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.setAttribute("aria-disabled", "true");
        button.textContent = "Envoi en cours…";
      }
    });
  }

  function init() {
    document.querySelectorAll(".diag-form").forEach(enhanceSkillBlocks);
    document.querySelectorAll("[data-shares]").forEach(enhanceShares);
    document.querySelectorAll("form[data-confirm]").forEach(enhanceConfirm);
    document.querySelectorAll("form[data-submit-once]").forEach(enhanceSubmitOnce);
    // After a refused step, bring the summary of errors into view for keyboard and reader users.
    var summary = document.querySelector(".diag-error-summary");
    if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
