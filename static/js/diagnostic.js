// Company diagnostic: progressive enhancements. Every form works without this script (the
// server resolves what was typed and says what is wrong); the script only adds suggestions
// to the text fields, the remaining percentage as shares are typed, the skills blocks of the
// chosen job, a confirmation before removing a job and a single submission of the diagnostic.
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 150;

  // --- Suggestions (WAI-ARIA 1.2 combobox with a list popup) -------------------------------
  function enhanceCombobox(box) {
    var input = box.querySelector("input");
    var listbox = box.querySelector("[role=listbox]");
    var status = box.querySelector("[role=status]");
    var url = box.dataset.suggestUrl;
    var options = [];
    var active = -1;
    var timer = null;
    var sequence = 0;
    var controller = null;
    if (!input || !listbox) { return; }

    // The roles are set here: without the script there is no popup to announce.
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    function say(text) { if (status) { status.textContent = text; } }

    function open() {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      options.forEach(function (option, i) {
        option.node.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].node.id);
        options[index].node.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = options[index].item;
      input.value = item.value;
      close();
      say("Choisi : " + item.value);
      box.dispatchEvent(new CustomEvent("diagnostic:choose", { bubbles: true, detail: item }));
    }

    function render(items) {
      listbox.textContent = "";
      options = items.map(function (item, i) {
        var node = document.createElement("li");
        node.id = listbox.id + "-" + i;
        node.setAttribute("role", "option");
        node.setAttribute("aria-selected", "false");
        node.className = "diag-option-suggestion";
        var title = document.createElement("span");
        title.className = "diag-suggestion-label";
        title.textContent = item.appellation || item.label;
        node.appendChild(title);
        var detail = document.createElement("span");
        detail.className = "diag-suggestion-detail";
        detail.textContent = item.detail || (item.appellation ? item.code + " · " + item.label : item.code);
        node.appendChild(detail);
        // mousedown would blur the input (and close the list) before the click lands.
        node.addEventListener("mousedown", function (event) { event.preventDefault(); });
        node.addEventListener("click", function () { choose(i); });
        listbox.appendChild(node);
        return { node: node, item: item };
      });
      active = -1;
      if (options.length) {
        open();
        say(options.length + (options.length > 1 ? " suggestions" : " suggestion") +
            " ; flèches haut et bas pour les parcourir, Entrée pour choisir.");
      } else {
        close();
        say(input.value.trim().length >= MIN_LENGTH ? "Aucune suggestion." : "");
      }
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < MIN_LENGTH) { render([]); return; }
      var current = ++sequence;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : [];
      }).then(function (items) {
        if (current === sequence) { render(items); }  // a late answer to an older query is dropped
      }).catch(function () { /* aborted or offline: the server still resolves the text */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !listbox.hidden && options.length > 0;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!expanded) {
            if (options.length) { open(); setActive(0); } else { fetchSuggestions(); }
          } else {
            setActive((active + 1) % options.length);
          }
          break;
        case "ArrowUp":
          event.preventDefault();
          if (expanded) { setActive(active <= 0 ? options.length - 1 : active - 1); }
          break;
        case "Enter":
          // Enter chooses a suggestion; it must not submit the form at the same time.
          if (expanded && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
          if (expanded) { event.preventDefault(); close(); }
          break;
        case "Tab":
          close();
          break;
      }
    });

    input.addEventListener("blur", function () { close(); });
  }

  // --- Skills blocks of the chosen fiche ----------------------------------------------------
  function enhanceSkillBlocks(form) {
    var fieldset = form.querySelector("[data-skill-blocks]");
    var occupationBox = form.querySelector(".diag-combobox[data-suggest-event=occupation]");
    if (!fieldset || !occupationBox) { return; }
    var list = fieldset.querySelector("[data-skill-blocks-list]");
    var name = fieldset.dataset.fieldName;
    var idPrefix = fieldset.dataset.idPrefix;
    var url = occupationBox.dataset.suggestUrl;

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

    occupationBox.addEventListener("diagnostic:choose", function (event) {
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
    document.querySelectorAll(".diag-combobox[data-suggest-url]").forEach(enhanceCombobox);
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
