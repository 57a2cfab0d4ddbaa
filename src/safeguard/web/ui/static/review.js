// The review grid's keyboard: arrows move, Shift+arrows extend, g selects the cursor's
// whole group, a scheme key grades the selection (whole groups included), r reveals the
// cursor's item (audited by the server; the picture is re-blurred as soon as you move).
(function () {
  "use strict";
  const grid = document.getElementById("grid");
  if (!grid) { return; }
  const base = grid.dataset.base;
  const csrf = grid.dataset.csrf;
  const keys = grid.dataset.keys || "";
  const tiles = Array.from(grid.querySelectorAll(".tile"));
  const detail = document.getElementById("detail");
  let cursor = 0;
  let selected = new Set(tiles.length ? [0] : []);
  let groups = new Set();
  let revealed = null;

  function columns() {
    if (tiles.length < 2) { return 1; }
    const top = tiles[0].offsetTop;
    let n = 0;
    while (n < tiles.length && tiles[n].offsetTop === top) { n += 1; }
    return Math.max(1, n);
  }

  function reblur() {
    if (revealed !== null) {
      const img = tiles[revealed].querySelector("img");
      img.src = img.dataset.thumb;
      tiles[revealed].classList.remove("revealed");
      revealed = null;
    }
  }

  function show() {
    tiles.forEach(function (tile, i) {
      tile.classList.toggle("cursor", i === cursor);
      tile.classList.toggle("selected", selected.has(i));
    });
    if (!tiles.length) { return; }
    tiles[cursor].scrollIntoView({ block: "nearest" });
    fetch(base + "/items/" + tiles[cursor].dataset.item, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d || !detail) { return; }
        let text = "#" + d.item + " " + d.path;
        if (d.group !== null) {
          text += " · group " + d.group + ": " + d.members.map(function (m) { return "#" + m.item + " (d " + m.distance + ")"; }).join(", ");
        }
        if (d.suggestion) {
          text += " · suggested, not graded: " + d.suggestion.category + " from " + d.suggestion.list + " (d " + d.suggestion.distance + ")";
        }
        if (d.history.length) {
          text += " · history: " + d.history.map(function (h) { return h.code + " by " + h.examiner; }).join(" → ");
        }
        detail.textContent = text;
      });
  }

  function move(delta, extend) {
    reblur();
    const next = Math.min(tiles.length - 1, Math.max(0, cursor + delta));
    cursor = next;
    if (extend) { selected.add(next); } else { selected = new Set([next]); groups = new Set(); }
    show();
  }

  function selectGroup() {
    const group = tiles[cursor].dataset.group;
    if (!group) { return; }
    groups.add(Number(group));
    tiles.forEach(function (tile, i) { if (tile.dataset.group === group) { selected.add(i); } });
    show();
  }

  function grade(key) {
    const items = Array.from(selected).map(function (i) { return Number(tiles[i].dataset.item); });
    fetch(base + "/grades", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ items: items, groups: Array.from(groups), key: key })
    }).then(function (r) { return r.json(); }).then(function (d) {
      (d.graded || []).forEach(function (g) {
        const tile = document.getElementById("item-" + g.item);
        if (tile) { tile.querySelector(".grade").textContent = g.label; }
      });
      grid.dataset.lastGraded = String((d.graded || []).length);
      show();
    });
  }

  function reveal() {
    const tile = tiles[cursor];
    fetch(base + "/items/" + tile.dataset.item + "/reveal", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).then(function (r) { return r.json(); }).then(function (d) {
      const img = tile.querySelector("img");
      img.src = d.url;
      tile.classList.add("revealed");
      revealed = cursor;
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.target && ["INPUT", "SELECT", "TEXTAREA"].indexOf(event.target.tagName) >= 0) { return; }
    if (!tiles.length) { return; }
    const cols = columns();
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
    if (event.key in moves) { move(moves[event.key], event.shiftKey); event.preventDefault(); return; }
    if (event.key === "g") { selectGroup(); return; }
    if (event.key === "r") { reveal(); return; }
    if (event.key === "n" || event.key === "b") {
      const link = document.getElementById(event.key === "n" ? "next" : "prev");
      if (link) { window.location.href = link.href; }
      return;
    }
    if (event.key.length === 1 && keys.indexOf(event.key) >= 0) { grade(event.key); event.preventDefault(); }
  });

  // Break reminder: time in the grid is counted across pages of this browser tab.
  const minutes = Number(grid.dataset.break || "45");
  const started = Number(sessionStorage.getItem("safeguard.review.since") || Date.now());
  sessionStorage.setItem("safeguard.review.since", String(started));
  function remind() {
    if (Date.now() - started >= minutes * 60000) {
      document.getElementById("break").style.display = "block";
    }
  }
  remind();
  setInterval(remind, 30000);
  show();
})();
