// The assembly's quorum on the console door page (data-quorum-url): the figures are read again
// every 10 seconds, as other door phones record arrivals too. Without JavaScript the page's
// "Refresh the count" link does the same.
(function () {
  "use strict";
  var EVERY_MS = 10000;

  function show(box, figures) {
    Object.keys(figures).forEach(function (name) {
      var cell = box.querySelector('[data-figure="' + name + '"]');
      if (cell) cell.textContent = String(figures[name]);
    });
    var status = box.querySelector("[data-quorum-status]");
    var words = figures.quorum_met ? box.getAttribute("data-met") : box.getAttribute("data-not-met");
    if (status && status.textContent !== words) status.textContent = words;
  }

  function refresh(box) {
    if (document.hidden) return;
    fetch(box.getAttribute("data-quorum-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (figures) { if (figures) show(box, figures); })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }

  var box = document.querySelector("[data-quorum-url]");
  if (box) window.setInterval(function () { refresh(box); }, EVERY_MS);
})();
