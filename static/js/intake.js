// Shows the crisis panel the moment an answer that signals risk is chosen (the server marks
// those choices with data-crisis), right below that question so it is seen where the patient
// is reading. Without JavaScript the panel appears at the top of the next page after saving.
(function () {
  "use strict";
  var panel = document.getElementById("crisis");
  var form = document.querySelector("form.intake");
  if (!panel || !form) { return; }
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-crisis]") || !input.checked) { return; }
    var question = input.closest(".question");
    if (panel.hidden && question) {
      question.insertAdjacentElement("afterend", panel);
    }
    panel.hidden = false;
  });
})();
