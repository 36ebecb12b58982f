// Render the math of pymdownx.arithmatex (generic mode: \( ... \) and \[ ... \]) and of the
// notebooks' Markdown cells ($ ... $, $$ ... $$) with the vendored KaTeX: no network.
(function () {
  function render() {
    if (typeof renderMathInElement !== "function") return;
    renderMathInElement(document.body, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
        { left: "$", right: "$", display: false },
      ],
      ignoredClasses: ["highlight", "jp-OutputArea", "jp-InputArea"],
      throwOnError: false,
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(render); // Material's page observable (instant navigation included)
  } else {
    document.addEventListener("DOMContentLoaded", render);
  }
})();
