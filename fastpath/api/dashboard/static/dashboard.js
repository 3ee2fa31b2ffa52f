// Live refresh: fetch the page's fragment every few seconds and swap it in only when it
// changed, so nothing flashes. A lost session goes back to the login page.
(function () {
  "use strict";
  var main = document.getElementById("live");
  if (!main) { return; }
  var every = parseInt(main.getAttribute("data-refresh"), 10) || 3000;
  var last = null;
  function typing() {  // a filter being typed into is not swapped away under the cursor
    var a = document.activeElement;
    return a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName);
  }
  function tick() {
    if (document.hidden || typing()) { return schedule(); }
    fetch(window.location.href, {headers: {"FP-Fragment": "1"}, credentials: "same-origin",
                                 cache: "no-store"})
      .then(function (r) {
        if (r.redirected && r.url.indexOf("/ui/login") !== -1) { window.location.assign(r.url); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== last) {
          main.innerHTML = html;
          last = html;
          main.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () { /* the scheduler restarts: try again next time */ })
      .then(schedule);
  }
  function schedule() { window.setTimeout(tick, every); }
  schedule();
}());
