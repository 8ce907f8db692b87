// A filter box above each neighbourhood <select> (data-neighbourhood-picker): typing "효자"
// keeps only the options whose name contains it. Without JavaScript the <select> works alone.
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFC").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function enhance(box) {
    var select = box.querySelector("select");
    if (!select || box.hasAttribute("data-enhanced")) return;
    box.setAttribute("data-enhanced", "");
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-filter";
    input.className = "neighbourhood-filter";
    input.setAttribute("aria-controls", select.id);
    input.setAttribute("autocomplete", "off");
    var label = document.createElement("label");
    label.htmlFor = input.id;
    label.textContent = box.dataset.filterLabel;
    var status = document.createElement("p");
    status.className = "hint";
    status.setAttribute("role", "status");
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(status, select.nextSibling);
    input.addEventListener("input", function () { filter(select, input.value, status, box); });
  }

  function filter(select, typed, status, box) {
    var wanted = fold(typed), shown = 0, first = null;
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var any = false;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
        var fits = !wanted || fold(option.value + " " + option.textContent).indexOf(wanted) !== -1;
        option.hidden = !fits;
        if (fits) { any = true; shown += 1; first = first || option; }
      });
      group.hidden = !any;
    });
    if (wanted && shown === 1) first.selected = true;
    status.textContent = wanted && !shown ? box.dataset.noMatch : "";
  }

  document.querySelectorAll("[data-neighbourhood-picker]").forEach(enhance);
})();
