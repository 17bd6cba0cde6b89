// Loaded between require.js and the ipywidgets embed manager (embed-amd.js) on pages
// with widgets; see _ext/site_assets.py.
(function () {
  "use strict";
  // 1. The manager loads its icon fonts from beside its module's require.js URL, which by
  //    default is relative to the page: map the module to the vendored copy instead.
  var folder = document.currentScript.src.replace(/[^/]*$/, "");  // .../_static/offline/
  window.requirejs.config({
    paths: { "@jupyter-widgets/html-manager/dist": folder + "html-manager/dist" },
  });
  // 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the site runs
  //    MathJax 3, on which that call throws. Give MathJax 3 the one call it needs.
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub || !mathjax.startup) return;
    mathjax.Hub = {
      Queue: function (command) {
        var element = command[2];
        mathjax.startup.promise
          .then(function () { return mathjax.typesetPromise([element]); })
          .catch(function (error) { console.warn("MathJax could not typeset a widget label:", error); });
      },
    };
  });
})();
