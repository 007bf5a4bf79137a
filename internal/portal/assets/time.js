// Shows each <time datetime> in the viewer's zone, keeping the UTC time
// the server wrote as its title (shown on hover). The page reads the same
// without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) { return; }
    el.title = el.textContent;
    el.textContent = fmt.format(d);
  });
});
