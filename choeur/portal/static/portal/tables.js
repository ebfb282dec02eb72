/* A table wider than its box scrolls inside it (portal.css). Keyboard users must be able to reach that box to
   scroll it (RGAA 7.3, WCAG 2.1.1): a box that scrolls becomes focusable, as a region named after the table's
   caption. Run once the DSFR has wrapped its tables, again when the window is resized or HTMX swaps content. */
(function () {
  "use strict";
  var SELECTOR = ".fr-table, .fr-table__shadow, .fr-table__content, .choeur-table-scroll";

  function mark() {
    document.querySelectorAll(SELECTOR).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Tableau défilant");
        box.dataset.choeurScrollable = "true";
      } else if (!scrolls && box.dataset.choeurScrollable) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.choeurScrollable;
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(mark, 50);
  }

  window.addEventListener("load", later);
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        if (records[i].addedNodes.length) { later(); return; }
      }
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
  if (document.readyState !== "loading") { later(); } else { document.addEventListener("DOMContentLoaded", later); }
})();
