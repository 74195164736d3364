/*
 * Progressive enhancement only: every page works, and every answer can be sent, without this
 * file. Loaded from our own origin with `defer` (the CSP forbids inline script), so the
 * document is parsed when it runs.
 */
(function () {
  "use strict";

  // ---- A polite live region, present (empty) from load so later changes are announced ----

  function announcer() {
    var region = document.getElementById("js-announcer");
    if (!region) {
      region = document.createElement("div");
      region.id = "js-announcer";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    return region;
  }

  function announce(text) {
    var region = announcer();
    region.textContent = "";
    // A short pause so screen readers notice the change even when the text repeats.
    window.setTimeout(function () {
      region.textContent = text;
    }, 100);
  }

  // ---- An alert item (PHQ-9 item 9): show crisis resources as soon as an answer at or
  //      above its minimum is chosen. The panel names the question and the minimum. ----

  function alertCrisis() {
    var panel = document.querySelector("[data-alert-field]");
    if (!panel) {
      return;
    }
    announcer();
    var minimum = Number(panel.getAttribute("data-alert-minimum"));
    var radios = document.querySelectorAll('input[type="radio"]');
    radios = Array.prototype.filter.call(radios, function (radio) {
      return radio.name === panel.getAttribute("data-alert-field");
    });
    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked) {
          return;
        }
        if (Number(radio.value) >= minimum) {
          if (panel.hidden) {
            panel.hidden = false;
            var heading = panel.querySelector("h2");
            var first = panel.querySelector("p");
            announce([heading, first].filter(Boolean).map(function (el) {
              return el.textContent.trim();
            }).join(" "));
          }
        } else {
          panel.hidden = true;
        }
      });
    });
  }

  // ---- Error summary: focus it on load; its links focus the field they name ----

  function errorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest('a[href^="#"]');
      if (!link) {
        return;
      }
      var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!target) {
        return;
      }
      event.preventDefault();
      // Bring the question (and its legend or label) into view, not just the input.
      var question = target.closest(".question") || target;
      question.scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
    });
  }

  // ---- Antidepressant rows: show two blank rows, add more on request, up to data-max ----

  var ROW_PREFIX = /trials-\d+-/g;
  var RENUMBERED = ["id", "name", "for", "aria-describedby"];

  function isBlank(row) {
    var fields = row.querySelectorAll("input, textarea");
    return Array.prototype.every.call(fields, function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        return !field.checked;
      }
      return field.value.trim() === "";
    });
  }

  function blankCopy(source, index, legendTemplate) {
    var row = source.cloneNode(true);
    var prefix = "trials-" + index + "-";
    row.hidden = false;
    row.classList.remove("has-error");
    Array.prototype.forEach.call(row.querySelectorAll(".field-error"), function (el) {
      el.remove();
    });
    Array.prototype.forEach.call(row.querySelectorAll(".has-error"), function (el) {
      el.classList.remove("has-error");
    });
    Array.prototype.forEach.call(row.querySelectorAll("*"), function (el) {
      RENUMBERED.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.replace(ROW_PREFIX, prefix));
        }
      });
      var described = el.getAttribute("aria-describedby");
      if (described) {
        // The copy has no error messages, so it must not point at any.
        var kept = described.split(/\s+/).filter(function (id) {
          return !/-error$/.test(id);
        });
        if (kept.length) {
          el.setAttribute("aria-describedby", kept.join(" "));
        } else {
          el.removeAttribute("aria-describedby");
        }
      }
      el.removeAttribute("aria-invalid");
      if (el.tagName === "INPUT" && (el.type === "radio" || el.type === "checkbox")) {
        el.checked = false;
        el.defaultChecked = false;
      } else if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") {
        el.value = "";
        el.defaultValue = "";
      }
    });
    var legend = row.querySelector("legend");
    if (legend && legendTemplate) {
      legend.textContent = legendTemplate.replace("{n}", String(index + 1));
    }
    return row;
  }

  function trialRows() {
    var container = document.querySelector("[data-trials]");
    var button = document.querySelector("[data-add-trial]");
    if (!container || !button) {
      return;
    }
    var max = parseInt(container.getAttribute("data-max"), 10) || 20;
    var legendTemplate = container.getAttribute("data-legend");
    var rows = function () {
      return container.querySelectorAll("[data-trial]");
    };

    // Without JavaScript every row is shown; with it, only the rows in use plus one blank
    // row (at least two in all), so the page stays short on a phone.
    var all = rows();
    var lastUsed = -1;
    Array.prototype.forEach.call(all, function (row, index) {
      if (!isBlank(row)) {
        lastUsed = index;
      }
    });
    var visible = Math.max(2, lastUsed + 2);
    Array.prototype.forEach.call(all, function (row, index) {
      row.hidden = index >= visible;
    });

    function update() {
      var hiddenLeft = container.querySelector("[data-trial][hidden]");
      button.hidden = !hiddenLeft && rows().length >= max;
    }

    button.addEventListener("click", function () {
      var row = container.querySelector("[data-trial][hidden]");
      if (row) {
        row.hidden = false;
      } else {
        var current = rows();
        if (current.length >= max) {
          return;
        }
        row = blankCopy(current[current.length - 1], current.length, legendTemplate);
        container.appendChild(row);
      }
      update();
      var first = row.querySelector("input, textarea");
      if (first) {
        first.focus();
      }
    });
    update();
  }

  // ---- The final submit: one click sends once ----

  function submitOnce() {
    var buttons = document.querySelectorAll("[data-submit-once]");
    Array.prototype.forEach.call(buttons, function (button) {
      var form = button.form;
      if (!form) {
        return;
      }
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-submitting") === "true") {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-submitting", "true");
        // Disabled just after the submit event, so this submission still goes ahead.
        window.setTimeout(function () {
          button.disabled = true;
        }, 0);
      });
    });
    // Coming back with the Back button restores the page from memory: make it usable again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) {
        return;
      }
      Array.prototype.forEach.call(buttons, function (button) {
        button.disabled = false;
        if (button.form) {
          button.form.removeAttribute("data-submitting");
        }
      });
    });
  }

  // ---- A language link on a step: send what was typed with it, so that nothing is lost. The
  //      server keeps it (unchecked) and shows the step again in the other language. Without
  //      script the link still changes the language; only this page's unsaved input is lost.

  function languageLinks() {
    var form = document.querySelector("form[data-step-form]");
    if (!form) {
      return;
    }
    var links = document.querySelectorAll("a[data-language]");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var choice = document.createElement("input");
        choice.type = "hidden";
        choice.name = "lang";
        choice.value = link.getAttribute("data-language");
        form.appendChild(choice);
        form.submit();
      });
    });
  }

  alertCrisis();
  errorSummary();
  languageLinks();
  trialRows();
  submitOnce();
})();
