// Swagger UI (drf-spectacular-sidecar) renders a few controls that axe-core fails as serious or
// critical and that neither its settings nor CSS can change. This sets their attributes as they
// are rendered, and never adds, moves or removes a node React owns. (templates/api_docs/swagger_ui.html)
(() => {
  "use strict";

  // Each fix: the elements it applies to, and what it sets on one.
  const FIXES = [
    // An operation's path is a deep link (<a href="#/tag/operation">) inside the button that opens
    // the operation: a control inside a control (nested-interactive). Without its href the link is
    // plain text; opening the operation still sets the same #/tag/operation (deepLinking).
    [".opblock-summary-control a[href]", (link) => link.removeAttribute("href")],
    // The Authorize dialog's close button, an icon alone (button-name).
    ["button.close-modal:not([aria-label])", (button) => button.setAttribute("aria-label", "Close")],
    // A parameter's list of choices (an enum, a boolean) or text box (an object), named by the
    // parameter (select-name, label); its text fields have the name as placeholder, which axe accepts.
    [
      "tr[data-param-name] :is(select, textarea):not([aria-label])",
      (field) => field.setAttribute("aria-label", field.closest("tr").dataset.paramName),
    ],
    // The request body's text box, under "Request body" but not labelled by it (label).
    ["textarea.body-param__text:not([aria-label])", (body) => body.setAttribute("aria-label", "Request body")],
    // A long example, response or curl command scrolls in its box: reachable by keyboard, so that
    // it can be scrolled without a mouse (scrollable-region-focusable).
    [
      ".swagger-ui pre:not([tabindex])",
      (code) => {
        if (code.scrollHeight > code.clientHeight || code.scrollWidth > code.clientWidth) code.tabIndex = 0;
      },
    ],
  ];

  // Within root (an element React added or changed): root itself, its descendants, and the
  // <pre> it is in (a response's code, re-rendered in place).
  const fix = (root) => {
    for (const [selector, apply] of FIXES) {
      if (root.matches(selector)) apply(root);
      for (const element of root.querySelectorAll(selector)) apply(element);
      const code = root.closest("pre");
      if (code && code.matches(selector)) apply(code);
    }
  };

  new MutationObserver((records) => {
    const roots = new Set();
    for (const record of records) {
      if (record.type === "attributes") roots.add(record.target);
      for (const node of record.addedNodes) {
        roots.add(node.nodeType === Node.ELEMENT_NODE ? node : record.target);
      }
    }
    for (const root of roots) if (root.isConnected) fix(root);
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["href"] });
  window.addEventListener("resize", () => fix(document.documentElement));
})();
