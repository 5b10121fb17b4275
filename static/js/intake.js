// Opens the right panel the moment an answer that needs care is chosen (the server marks such
// choices with data-alert: "emergency", "self_harm" or "see_doctor"), right below that question
// so it is seen where the patient is reading. Without JavaScript the panel shows at the top of
// the next page after saving.
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) { return; }
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-alert]") || !input.checked) { return; }
    var panel = document.getElementById("alert-" + input.getAttribute("data-alert"));
    if (!panel) { return; }
    var question = input.closest(".question");
    if (panel.hidden && question) {
      question.insertAdjacentElement("afterend", panel);
    }
    panel.hidden = false;
    panel.scrollIntoView({ block: "nearest" });
  });
})();
