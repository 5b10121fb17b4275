// Progressive enhancement for the slot picker: show times in the browser's own time zone.
// Without JavaScript the page uses the clinic's zone and the visitor can pick another.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  if (params.has("tz")) { return; }
  var detected;
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var select = document.getElementById("tz");
  if (!detected || !select || select.value === detected) { return; }
  var known = Array.prototype.some.call(select.options, function (o) { return o.value === detected; });
  if (!known) { return; }
  params.set("tz", detected);
  window.location.replace(window.location.pathname + "?" + params.toString());
})();
