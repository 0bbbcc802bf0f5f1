// hubscope viewer: keyboard navigation, live rows over server-sent events, copy buttons.
"use strict";

(function () {
  const table = document.getElementById("exchanges");
  const body = table ? table.tBodies[0] : null;

  function rows() {
    return body ? Array.from(body.querySelectorAll("tr.row")) : [];
  }

  function select(row) {
    rows().forEach((r) => r.classList.remove("selected"));
    if (row) {
      row.classList.add("selected");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((r) => r.classList.contains("selected"));
    const next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + step));
    select(all[next]);
  }

  document.addEventListener("keydown", (event) => {
    const tag = (event.target && event.target.tagName) || "";
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "Enter") {
      const row = body && body.querySelector("tr.selected");
      if (row) { window.location.href = row.dataset.href; event.preventDefault(); }
    } else if (event.key === "/") {
      const search = document.getElementById("search");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });

  if (body) {
    body.addEventListener("click", (event) => {
      const row = event.target.closest("tr.row");
      if (row && !event.target.closest("a")) window.location.href = row.dataset.href;
    });
  }

  const source = table && table.dataset.events;
  if (source && window.EventSource) {
    const state = document.getElementById("live-state");
    const events = new EventSource(source);
    events.addEventListener("open", () => state && state.classList.remove("off"));
    events.addEventListener("error", () => state && state.classList.add("off"));
    events.addEventListener("exchange", (event) => {
      const item = JSON.parse(event.data);
      if (document.querySelector('tr[data-id="' + CSS.escape(item.id) + '"]')) return;
      body.insertAdjacentHTML("afterbegin", item.html);
      const row = body.firstElementChild;
      if (row) row.classList.add("fresh");
      const empty = document.querySelector("p.empty");
      if (empty) empty.remove();
    });
  }

  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target) return;
      try {
        await navigator.clipboard.writeText(target.textContent);
        button.textContent = "copied";
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(target);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        button.textContent = "selected: press Ctrl+C";
      }
    });
  });
})();
