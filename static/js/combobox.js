// Suggestions under a text field: an accessible combobox (WAI-ARIA 1.2 « list autocomplete »
// pattern) over a JSON endpoint answering ?q= with [{code, label, appellation?, detail?, value?}].
//
//   <div class="combobox" data-combobox-url="/metiers/suggestions/"
//        data-combobox-go="/metiers/CODE/">              (optional: open a page on choice)
//     <input type="search" id="q" name="q">
//     <ul id="q-listbox" role="listbox" aria-label="…" hidden></ul>
//     <div role="status" aria-live="polite"></div>       (optional, else the form's)
//   </div>
//
// With data-combobox-go, choosing a suggestion opens that URL (CODE replaced by its code,
// the form's hidden fields as its query string);
// otherwise its `value` (or label) is written into the field and the box sends a
// « combobox:choose » event whose detail is the suggestion. Options are styled by
// static/css/combobox.css. Without this script the form
// still submits and the server resolves what was typed: the script only adds suggestions.
// A file, not an inline script: the Content-Security-Policy forbids those.
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 150;

  function enhance(box) {
    var input = box.querySelector("input");
    var listbox = box.querySelector("[role=listbox]");
    var form = box.closest("form");
    var status = box.querySelector("[role=status]") || (form ? form.querySelector("[role=status]") : null);
    var url = box.dataset.comboboxUrl;
    var go = box.dataset.comboboxGo || "";
    var options = [];
    var active = -1;
    var timer = null;
    var sequence = 0;
    var controller = null;
    if (!input || !listbox) { return; }

    // The ARIA roles are set here, not in the HTML: without the script there is no popup.
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    function say(text) {
      if (status) { status.textContent = text; }
    }

    // The form's hidden fields (the lens or edition the page shows) travel with the page
    // a suggestion opens, so that it shows the same reading.
    function keptParams() {
      var params = [];
      if (!form) { return ""; }
      form.querySelectorAll("input[type=hidden]").forEach(function (hidden) {
        params.push(encodeURIComponent(hidden.name) + "=" + encodeURIComponent(hidden.value));
      });
      return params.length ? "?" + params.join("&") : "";
    }

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
      if (go) {
        window.location.href = go.replace("CODE", encodeURIComponent(item.code)) + keptParams();
        return;
      }
      input.value = item.value || item.label;
      close();
      say("Choisi : " + input.value);
      // The page may react to the choice (the diagnostic loads the chosen job's skills blocks).
      box.dispatchEvent(new CustomEvent("combobox:choose", { bubbles: true, detail: item }));
    }

    function detailOf(item) {
      if (item.detail) { return item.detail; }
      return item.appellation ? item.label + " · " + item.code : item.code;
    }

    function render(items) {
      listbox.textContent = "";
      options = items.map(function (item, i) {
        var node = document.createElement("li");
        node.id = listbox.id + "-" + i;
        node.setAttribute("role", "option");
        node.setAttribute("aria-selected", "false");
        node.className = "combobox-option";
        var title = document.createElement("span");
        title.className = "combobox-label";
        title.textContent = item.appellation || item.label;
        node.appendChild(title);
        var detail = document.createElement("span");
        detail.className = "combobox-detail";
        detail.textContent = detailOf(item);
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
      if (query.length < MIN_LENGTH) {
        render([]);
        return;
      }
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
        if (current === sequence) { render(items); }  // an older answer arriving late is dropped
      }).catch(function () { /* aborted or offline: the form still works */ });
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
          if (expanded && active >= 0) {
            // Enter chooses the suggestion; it must not submit the form at the same time.
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          }
          break;
        case "Tab":
          close();
          break;
      }
    });

    input.addEventListener("blur", function () { close(); });
    input.addEventListener("focus", function () {
      if (options.length && input.value.trim().length >= MIN_LENGTH) { open(); }
    });
  }

  function init() {
    document.querySelectorAll("[data-combobox-url]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
