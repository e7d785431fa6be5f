// evald dashboard: tooltips for chart points and markers, and copy buttons.
// Everything works without it: points carry an SVG <title>, which browsers
// show on hover; this only makes the tooltip immediate and keyboard-reachable.
(function () {
  "use strict";
  var tip = null;

  function place(x, y) {
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = Math.min(window.innerWidth - w - 8, Math.max(8, x + 12));
    var top = y - h - 12;
    if (top < 8) top = y + 18;
    tip.style.left = (left + window.scrollX) + "px";
    tip.style.top = (top + window.scrollY) + "px";
  }

  function show(ev) {
    var text = ev.currentTarget.getAttribute("data-tip");
    if (!text) return;
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    tip.textContent = text;
    tip.hidden = false;
    if (ev.type === "focus") {
      var r = ev.currentTarget.getBoundingClientRect();
      place(r.left + r.width / 2, r.top);
    } else {
      place(ev.clientX, ev.clientY);
    }
  }

  function move(ev) {
    if (tip && !tip.hidden) place(ev.clientX, ev.clientY);
  }

  function hide() {
    if (tip) tip.hidden = true;
  }

  function enhance() {
    var titles = document.querySelectorAll("svg.plot title");
    for (var i = 0; i < titles.length; i++) {
      var t = titles[i];
      var host = t.parentNode;
      if (host.parentNode && host.parentNode.tagName.toLowerCase() === "a") host = host.parentNode;
      host.setAttribute("data-tip", t.textContent);
      t.parentNode.removeChild(t);
      host.addEventListener("mouseenter", show);
      host.addEventListener("mousemove", move);
      host.addEventListener("mouseleave", hide);
      host.addEventListener("focus", show);
      host.addEventListener("blur", hide);
    }
    var buttons = document.querySelectorAll("button.copy[data-copy]");
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].addEventListener("click", function (ev) {
        var b = ev.currentTarget;
        if (!navigator.clipboard) {
          b.textContent = "select and copy";
          return;
        }
        navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
          b.textContent = "copied";
        }, function () {
          b.textContent = "select and copy";
        });
      });
    }
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") hide();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
