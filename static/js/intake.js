// Shows the crisis panel the moment an answer that signals risk is chosen (the server marks
// those choices with data-crisis). Without JavaScript the panel appears after saving the page.
(function () {
  "use strict";
  var panel = document.getElementById("crisis");
  var form = document.querySelector("form.intake");
  if (!panel || !form) { return; }
  function update() {
    if (form.querySelector("input[data-crisis]:checked")) {
      panel.hidden = false;
    }
  }
  form.addEventListener("change", update);
  update();
})();
